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
