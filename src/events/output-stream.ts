/**
 * Turns a process's output into `output` events without flooding the session bus: commands and
 * task agents publish through the same streamer.
 */

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** The longest prefix of `text` that is whole characters and at most `bytes` UTF-8 bytes. */
function keepLeadingBytes(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8')
  if (encoded.length <= bytes) return text
  let end = bytes
  while (end > 0 && (encoded[end]! & 0xc0) === 0x80) end--
  return encoded.subarray(0, end).toString('utf8')
}

export type OutputStreamLimits = {
  /** Output is gathered this long before one event carries it, so a chatty command sends few events. */
  coalesceMs: number
  /** Largest `data` of one event, in UTF-16 code units (what a WebSocket frame will carry). */
  maxEventChars: number
  /** Most output bytes one command publishes per second; the rest is counted and announced. */
  bytesPerSecond: number
}

export const DEFAULT_OUTPUT_STREAM_LIMITS: OutputStreamLimits = {
  coalesceMs: 50,
  maxEventChars: 16 * 1024,
  bytesPerSecond: 256 * 1024,
}

/**
 * Publishes output as events without flooding the bus: chunks arriving within `coalesceMs` go out
 * together, no event is larger than `maxEventChars`, and one command publishes at most
 * `bytesPerSecond` of output per second (plus a one-line notice). Output over that budget is not streamed;
 * a bracketed notice in the stream says how much was skipped, and the kept tail (GET) still has
 * the end of it. Every accepted chunk is published in order before `finish()` returns.
 */
export class OutputStreamer {
  private pending = ''
  private timer: ReturnType<typeof setTimeout> | null = null
  private windowStart = 0
  private windowBytes = 0
  private skippedBytes = 0

  constructor(
    private readonly publish: (data: string) => void,
    private readonly limits: OutputStreamLimits = DEFAULT_OUTPUT_STREAM_LIMITS,
  ) {}

  write(text: string): void {
    if (text === '') return
    const now = Date.now()
    if (now - this.windowStart >= 1000) {
      this.windowStart = now
      this.windowBytes = 0
      this.announceSkipped()
    }
    const bytes = utf8Length(text)
    const allowance = this.limits.bytesPerSecond - this.windowBytes
    if (bytes > allowance) {
      // Stream what fits in this second; the rest is only counted.
      const fits = keepLeadingBytes(text, Math.max(0, allowance))
      this.skippedBytes += bytes - utf8Length(fits)
      text = fits
      if (text === '') return
    }
    this.windowBytes += utf8Length(text)
    this.pending += text
    if (this.pending.length >= this.limits.maxEventChars) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.limits.coalesceMs)
  }

  /** Publishes everything still pending, then the notice of anything skipped. */
  finish(): void {
    this.flush()
    this.announceSkipped()
  }

  /** Drops what is pending without publishing (the session is gone; nobody is listening). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.pending = ''
    this.skippedBytes = 0
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    let rest = this.pending
    this.pending = ''
    while (rest.length > 0) {
      let cut = Math.min(rest.length, this.limits.maxEventChars)
      // Never split a surrogate pair across two events.
      const last = rest.charCodeAt(cut - 1)
      if (cut < rest.length && last >= 0xd800 && last <= 0xdbff) cut--
      this.publish(rest.slice(0, cut))
      rest = rest.slice(cut)
    }
  }

  private announceSkipped(): void {
    if (this.skippedBytes === 0) return
    this.flush()
    const skipped = this.skippedBytes
    this.skippedBytes = 0
    this.publish(
      `\n[cockpit: ${skipped} bytes of output were not streamed (over ${this.limits.bytesPerSecond} bytes/s); ` +
        `GET /api/cmd/<id> has the kept tail]\n`,
    )
  }
}
