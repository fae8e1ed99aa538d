/**
 * The bounded tail of one command's output kept for `GET /api/cmd/:id`. Its stream of `output`
 * events goes through the events layer's OutputStreamer.
 */

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** Drops the first `bytes` UTF-8 bytes of `text`, moving forward to the next whole character. */
function dropLeadingBytes(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8')
  let start = Math.min(bytes, encoded.length)
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++
  return encoded.subarray(start).toString('utf8')
}

/** Keeps the last `limitBytes` bytes of everything appended: the end of a log is what explains it. */
export class TailBuffer {
  private chunks: string[] = []
  private bytes = 0
  private dropped = false

  constructor(private readonly limitBytes: number) {}

  append(text: string): void {
    if (text === '') return
    this.chunks.push(text)
    this.bytes += utf8Length(text)
    while (this.bytes > this.limitBytes && this.chunks.length > 0) {
      this.dropped = true
      const head = this.chunks[0]!
      const headBytes = utf8Length(head)
      const excess = this.bytes - this.limitBytes
      if (headBytes <= excess) {
        this.chunks.shift()
        this.bytes -= headBytes
      } else {
        const kept = dropLeadingBytes(head, excess)
        this.chunks[0] = kept
        this.bytes -= headBytes - utf8Length(kept)
      }
    }
  }

  get truncated(): boolean {
    return this.dropped
  }

  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')]
    return this.chunks[0] ?? ''
  }
}
