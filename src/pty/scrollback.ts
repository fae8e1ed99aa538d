/**
 * The recent output of a terminal, bounded in UTF-8 bytes, replayed to a client that (re)attaches.
 * Chunks are kept as decoded strings and dropped whole from the front, so appending costs no
 * copying on the output path; holding is bounded by limitBytes plus the oldest chunk. text() cuts
 * to limitBytes, on a code point boundary so a replay never starts with half a character.
 */
export class Scrollback {
  private chunks: { text: string; bytes: number }[] = []
  private head = 0
  private bytes = 0

  constructor(readonly limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) throw new RangeError('scrollback limit must be a non-negative integer')
  }

  /** Bytes held (at most limitBytes plus part of one chunk). */
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

  /** The newest limitBytes of output, oldest first. */
  text(): string {
    if (this.head > 0) this.compact()
    const all = this.chunks.map((chunk) => chunk.text).join('')
    return this.bytes > this.limitBytes ? utf8Tail(all, this.limitBytes) : all
  }

  /**
   * About the newest maxChars of output, from the start of a line when one is in it: a repaint's
   * worth, built from the last chunks only (text() joins all of them).
   */
  tail(maxChars: number): string {
    let from = this.chunks.length
    let chars = 0
    while (from > this.head && chars < maxChars) chars += this.chunks[--from]!.text.length
    let text = this.chunks
      .slice(from)
      .map((chunk) => chunk.text)
      .join('')
    if (text.length <= maxChars) return text
    text = text.slice(text.length - maxChars)
    const newline = text.indexOf('\n')
    if (newline >= 0 && newline < text.length - 1) return text.slice(newline + 1)
    // no line start to cut at: at least never start with half a surrogate pair
    const first = text.charCodeAt(0)
    return first >= 0xdc00 && first <= 0xdfff ? text.slice(1) : text
  }

  clear(): void {
    this.chunks = []
    this.head = 0
    this.bytes = 0
  }

  private evict(): void {
    // Drop the oldest chunk only while what remains still covers the limit.
    for (;;) {
      const oldest = this.chunks[this.head]
      if (!oldest || this.bytes - oldest.bytes < this.limitBytes) break
      this.head++
      this.bytes -= oldest.bytes
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
