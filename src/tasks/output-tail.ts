/** The last `maxChars` of a stream, for prompt detection and the error message of a failed run. */
export class OutputTail {
  private text = ''

  constructor(private readonly maxChars = 8 * 1024) {}

  push(data: string): void {
    this.text = (this.text + data).slice(-this.maxChars)
  }

  /** The tail without ANSI escapes or carriage returns. */
  plain(): string {
    return Bun.stripANSI(this.text).replace(/\r/g, '')
  }

  /** The last line that says something, for an error message. */
  lastLine(): string | null {
    const lines = this.plain()
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
    const last = lines.at(-1)
    return last === undefined ? null : last.slice(0, 300)
  }
}

/**
 * Hands every line of a stream (ANSI stripped, carriage returns removed) to `check` until it
 * answers once; that answer is kept. Every line, not just the tail: the warning that matters
 * (gemini's untrusted folder) comes first and may be followed by pages of output. A line longer
 * than `maxLineChars` is checked in parts, each overlapping the previous by a little.
 */
export class LineWatch {
  private partial = ''
  private answer: string | null = null

  constructor(
    private readonly check: (line: string) => string | null,
    private readonly maxLineChars = 4 * 1024,
  ) {}

  get found(): string | null {
    return this.answer
  }

  push(data: string): void {
    if (this.answer !== null) return
    const lines = (this.partial + data).split('\n')
    this.partial = lines.pop()!
    for (const line of lines) if (this.checkLine(line)) return
    if (this.partial.length > this.maxLineChars) {
      if (this.checkLine(this.partial)) return
      this.partial = this.partial.slice(-256)
    }
  }

  /** The stream ended: its last line has no newline. */
  end(): void {
    if (this.answer === null && this.partial !== '') this.checkLine(this.partial)
    this.partial = ''
  }

  private checkLine(line: string): boolean {
    this.answer = this.check(Bun.stripANSI(line).replace(/\r/g, ''))
    return this.answer !== null
  }
}
