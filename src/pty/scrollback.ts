/**
 * The recent output of a terminal, bounded in UTF-8 bytes, replayed to a client that (re)attaches.
 * Chunks are kept as decoded strings; when the oldest one has to be cut, the cut lands on a code
 * point boundary so a replay never starts with half a character.
 */
export class Scrollback {
  private chunks: { text: string; bytes: number }[] = []
  private head = 0
  private bytes = 0

  constructor(readonly limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) throw new RangeError('scrollback limit must be a non-negative integer')
  }

  get size(): number {
    return this.bytes
  }

  append(text: string): void {
    if (text.length === 0 || this.limitBytes === 0) return
    let bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > this.limitBytes) {
      text = utf8Tail(text, this.limitBytes)
      bytes = Buffer.byteLength(text, 'utf8')
      this.clear()
    }
    this.chunks.push({ text, bytes })
    this.bytes += bytes
    this.evict()
  }

  /** Everything kept, oldest first. */
  text(): string {
    if (this.head > 0) this.compact()
    return this.chunks.map((chunk) => chunk.text).join('')
  }

  clear(): void {
    this.chunks = []
    this.head = 0
    this.bytes = 0
  }

  private evict(): void {
    while (this.bytes > this.limitBytes) {
      const oldest = this.chunks[this.head]
      if (!oldest) break
      const excess = this.bytes - this.limitBytes
      if (oldest.bytes <= excess) {
        this.head++
        this.bytes -= oldest.bytes
        continue
      }
      const kept = utf8Tail(oldest.text, oldest.bytes - excess)
      const keptBytes = Buffer.byteLength(kept, 'utf8')
      this.bytes -= oldest.bytes - keptBytes
      oldest.text = kept
      oldest.bytes = keptBytes
    }
    if (this.head > 256 && this.head * 2 > this.chunks.length) this.compact()
  }

  private compact(): void {
    this.chunks = this.chunks.slice(this.head)
    this.head = 0
  }
}

/** The longest suffix of `text` whose UTF-8 encoding fits in `maxBytes`, cut between code points. */
export function utf8Tail(text: string, maxBytes: number): string {
  const encoded = Buffer.from(text, 'utf8')
  if (encoded.length <= maxBytes) return text
  let start = encoded.length - maxBytes
  // 0b10xxxxxx bytes continue a character: step forward to the next character's first byte.
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++
  return encoded.subarray(start).toString('utf8')
}
