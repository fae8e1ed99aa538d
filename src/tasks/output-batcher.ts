/**
 * Coalesces a terminal's output into `output` events: chunks arriving within `delayMs` become one
 * event, and no event carries more than `maxChars`. What is held between flushes is bounded by
 * maxChars plus one chunk, since a full batch is sent at once.
 */
export class OutputBatcher {
  private pending = ''
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly emit: (data: string) => void,
    private readonly delayMs = 50,
    private readonly maxChars = 16 * 1024,
  ) {}

  push(data: string): void {
    if (data.length === 0) return
    this.pending += data
    if (this.pending.length >= this.maxChars) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs)
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    while (this.pending.length > 0) {
      const data = this.pending.slice(0, this.maxChars)
      this.pending = this.pending.slice(data.length)
      this.emit(data)
    }
  }
}

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
