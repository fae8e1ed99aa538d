/** Git's delta encoding (patch-delta.c), as pack files store most objects: checked, never trusted. */

function deltaVarint(delta: Buffer, at: { p: number }): number {
  let n = 0
  let c: number
  let shift = 0
  do {
    c = delta[at.p++]!
    n += (c & 0x7f) * 2 ** shift
    shift += 7
  } while (c & 0x80)
  return n
}

/** A delta is the base and result sizes, then copy-from-base and insert-literal ops. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const at = { p: 0 }
  if (deltaVarint(delta, at) !== base.length) throw new Error('delta base size mismatch')
  const out = Buffer.allocUnsafe(deltaVarint(delta, at))
  let o = 0
  let p = at.p
  while (p < delta.length) {
    const op = delta[p++]!
    if (op & 0x80) {
      let off = 0
      let len = 0
      if (op & 0x01) off = delta[p++]!
      if (op & 0x02) off |= delta[p++]! << 8
      if (op & 0x04) off |= delta[p++]! << 16
      if (op & 0x08) off = (off | (delta[p++]! << 24)) >>> 0
      if (op & 0x10) len = delta[p++]!
      if (op & 0x20) len |= delta[p++]! << 8
      if (op & 0x40) len |= delta[p++]! << 16
      if (len === 0) len = 0x10000
      if (off + len > base.length || o + len > out.length) throw new Error('delta copies out of range')
      base.copy(out, o, off, off + len)
      o += len
    } else if (op !== 0) {
      if (p + op > delta.length || o + op > out.length) throw new Error('delta inserts out of range')
      delta.copy(out, o, p, p + op)
      o += op
      p += op
    } else throw new Error('delta has a reserved opcode 0')
  }
  if (o !== out.length) throw new Error('delta result size mismatch')
  return out
}
