import { describe, expect, it } from 'bun:test'
import { Utf8Stream } from '../../src/pty/utf8-stream'

/** A seeded PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Decodes `bytes` cut at the given offsets, as PTY reads would deliver them. */
function decodeInPieces(bytes: Uint8Array, cuts: number[]): string {
  const stream = new Utf8Stream()
  let text = ''
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    text += stream.decode(bytes.subarray(from, cut))
    from = cut
  }
  return text + stream.end()
}

describe('Utf8Stream', () => {
  it('gives the same text as one whole decode however the reads cut valid UTF-8', () => {
    const text = 'héllo 日本語 ✓ 🙂 y\r\n'.repeat(50)
    const bytes = new TextEncoder().encode(text)
    const rnd = prng(7)
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => Math.floor(rnd() * bytes.length)).sort((a, b) => a - b)
      expect(decodeInPieces(bytes, cuts)).toBe(text)
    }
  })

  it('agrees with a whole decode on random bytes, invalid sequences included', () => {
    const rnd = prng(11)
    const whole = new TextDecoder('utf-8')
    for (let round = 0; round < 500; round++) {
      // mostly bytes that start or continue sequences, so cuts land inside them
      const pool = [0x41, 0x0a, 0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x99, 0x82, 0x80, 0xbf, 0xff, 0xc0, 0xed, 0xa0]
      const bytes = Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => pool[Math.floor(rnd() * pool.length)]!)
      const cuts = Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * (bytes.length + 1))).sort((a, b) => a - b)
      expect(decodeInPieces(bytes, cuts)).toBe(whole.decode(bytes))
    }
  })

  it('holds a cut character until its last byte arrives and flags one the stream never finished', () => {
    const stream = new Utf8Stream()
    const euro = new TextEncoder().encode('€') // 3 bytes
    expect(stream.decode(euro.subarray(0, 1))).toBe('')
    expect(stream.decode(euro.subarray(1, 2))).toBe('')
    expect(stream.decode(euro.subarray(2))).toBe('€')
    expect(stream.decode(euro.subarray(0, 2))).toBe('')
    expect(stream.end()).toBe('\uFFFD')
  })
})
