/**
 * UTF-8 decoding of a byte stream whose reads may split a character. TextDecoder's own
 * `{ stream: true }` mode does this too, but measured on Bun 1.4.4 it costs about 200 µs per
 * 60 KB read against under 5 µs for a whole-buffer decode (a flooding terminal spent most of the
 * server's time there). So: decode everything up to the last complete character at once, and
 * carry the 1-3 bytes of a character cut by the read into the next one.
 */
const decoder = new TextDecoder('utf-8')

/** Bytes a sequence has, from its first byte; 0 for a byte that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return 2
  if (lead >= 0xe0 && lead <= 0xef) return 3
  if (lead >= 0xf0 && lead <= 0xf4) return 4
  return 0
}

/** Where an incomplete character at the end of `bytes` starts (bytes.length when it ends complete). */
export function completeLength(bytes: Uint8Array): number {
  const end = bytes.length
  // A character has at most 3 continuation bytes: look back that far for its lead byte.
  for (let back = 1; back <= Math.min(4, end); back++) {
    const b = bytes[end - back]!
    if ((b & 0xc0) === 0x80) continue // a continuation byte: keep looking for the lead
    const need = sequenceLength(b)
    // A complete (or invalid) sequence ends the buffer: decode all of it.
    return need > back ? end - back : end
  }
  return end
}

export class Utf8Stream {
  private carry: Uint8Array | null = null

  /** The text of `chunk`, less a character it cuts (kept for the next call). */
  decode(chunk: Uint8Array): string {
    let bytes = chunk
    if (this.carry) {
      bytes = new Uint8Array(this.carry.length + chunk.length)
      bytes.set(this.carry)
      bytes.set(chunk, this.carry.length)
      this.carry = null
    }
    const cut = completeLength(bytes)
    if (cut < bytes.length) this.carry = bytes.slice(cut)
    return cut === 0 ? '' : decoder.decode(cut === bytes.length ? bytes : bytes.subarray(0, cut))
  }

  /** What a cut character left at the end of the stream, as replacement characters. */
  end(): string {
    const rest = this.carry
    this.carry = null
    return rest ? decoder.decode(rest) : ''
  }
}
