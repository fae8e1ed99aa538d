/**
 * Object storage read directly: loose objects and pack files (idx v1/v2, OFS_DELTA and REF_DELTA).
 * isomorphic-git reads the whole .pack into memory, SHA-1s all of it and parses the .idx into a
 * Map of hex strings on first use per cache: 40 ms on every diff of a 10k-object repo, seconds
 * on a big one. Here an object costs a binary search in the .idx and a positioned read and
 * inflate of just its own bytes (and its delta bases'); parsed .idx files are kept, bounded.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type * as Zlib from 'node:zlib'
import { applyDelta } from './delta'

/**
 * node:zlib, loaded when the first object is read: importing it costs about 11 ms of every start
 * (test/architecture lists the start-up's forbidden imports), and a start reads no objects.
 */
let zlib: typeof Zlib | null = null
export const loadZlib = (): typeof Zlib => (zlib ??= require('node:zlib') as typeof Zlib)
const inflateSync = (data: Uint8Array): Buffer => loadZlib().inflateSync(data)

export type RawObject = { type: string; content: Uint8Array }

export type PackIndex = {
  packFile: string
  count: number
  /** The sorted 20-byte object names, back to back. */
  names: Buffer
  /** Pack offset of names[i]. */
  offsets: Float64Array
  /** Byte range of the fan-out: objects whose first byte is b are at [fanout[b-1], fanout[b]). */
  fanout: Uint32Array
  /** Offsets in pack order plus the end of the last object, built on first read (only the abbreviator never needs it). */
  sortedOffsets: Float64Array | null
}

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const
const OFS_DELTA = 6
const REF_DELTA = 7

/** Parsed .idx files by path, least recently used first; bounded by count and by bytes held. */
const indexCache = new Map<string, PackIndex>()
const MAX_INDEXES = 64
const MAX_INDEX_BYTES = 256 * 1024 * 1024
let indexBytes = 0

const heldBytes = (idx: PackIndex) => idx.names.buffer.byteLength + idx.offsets.byteLength * 2

function forgetIndex(file: string): void {
  const idx = indexCache.get(file)
  if (!idx) return
  indexCache.delete(file)
  indexBytes -= heldBytes(idx)
}

function parseIdx(buf: Buffer, packFile: string): PackIndex {
  const v2 = buf.readUInt32BE(0) === 0xff744f63
  if (v2 && buf.readUInt32BE(4) !== 2) throw new Error(`${packFile}: pack index version ${buf.readUInt32BE(4)} is not supported`)
  const fanStart = v2 ? 8 : 0
  const fanout = new Uint32Array(256)
  for (let b = 0; b < 256; b++) fanout[b] = buf.readUInt32BE(fanStart + b * 4)
  const count = fanout[255]!
  const offsets = new Float64Array(count)
  let names: Buffer
  if (v2) {
    const namesAt = fanStart + 1024
    names = buf.subarray(namesAt, namesAt + count * 20)
    const offAt = namesAt + count * 24
    const largeAt = offAt + count * 4
    for (let i = 0; i < count; i++) {
      const o = buf.readUInt32BE(offAt + i * 4)
      // MSB set: the offset is an index into the table of 8-byte offsets (packs over 2 GiB)
      if (o & 0x80000000) {
        const at = largeAt + (o & 0x7fffffff) * 8
        offsets[i] = buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4)
      } else offsets[i] = o
    }
  } else {
    names = Buffer.allocUnsafe(count * 20)
    for (let i = 0; i < count; i++) {
      const at = 1024 + i * 24
      offsets[i] = buf.readUInt32BE(at)
      buf.copy(names, i * 20, at + 4, at + 24)
    }
  }
  return { packFile, count, names, offsets, fanout, sortedOffsets: null }
}

/** The pack indexes of one gitdir's objects/pack; pack names are content hashes, so a parsed index is reused by name. */
export function packIndexes(gitdir: string): PackIndex[] {
  const dir = join(gitdir, 'objects', 'pack')
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: PackIndex[] = []
  for (const name of names) {
    if (!name.endsWith('.idx')) continue
    const idxFile = join(dir, name)
    let idx = indexCache.get(idxFile)
    if (idx) {
      indexCache.delete(idxFile)
      indexCache.set(idxFile, idx)
    } else {
      const packFile = idxFile.slice(0, -4) + '.pack'
      // an .idx without its .pack is a pack being written or removed: not readable yet
      if (!names.includes(name.slice(0, -4) + '.pack')) continue
      idx = parseIdx(readFileSync(idxFile), packFile)
      indexCache.set(idxFile, idx)
      indexBytes += heldBytes(idx)
      // the one just read stays even when it alone is over the budget: it is needed now
      while (indexCache.size > 1 && (indexCache.size > MAX_INDEXES || indexBytes > MAX_INDEX_BYTES)) forgetIndex(indexCache.keys().next().value!)
    }
    out.push(idx)
  }
  return out
}

/** Position of `key` (20 bytes) in the index, or -1. */
export function findInIndex(idx: PackIndex, key: Buffer): number {
  const first = key[0]!
  let lo = first === 0 ? 0 : idx.fanout[first - 1]!
  let hi = idx.fanout[first]!
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = key.compare(idx.names, mid * 20, mid * 20 + 20)
    if (c === 0) return mid
    if (c < 0) hi = mid
    else lo = mid + 1
  }
  return -1
}

/** Where the object at `offset` ends: the next object's offset, or the pack's trailing checksum. */
function objectEnd(idx: PackIndex, offset: number): number {
  let sorted = idx.sortedOffsets
  if (!sorted) {
    sorted = new Float64Array(idx.count + 1)
    sorted.set(idx.offsets)
    sorted[idx.count] = statSync(idx.packFile).size - 20
    sorted.sort()
    idx.sortedOffsets = sorted
  }
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= offset) lo = mid + 1
    else hi = mid
  }
  if (lo >= sorted.length) throw new Error(`${idx.packFile}: offset ${offset} is past the last object`)
  return sorted[lo]!
}

/** Delta bases are read again and again (trees especially): keep recent ones, bounded by bytes. */
const baseCache = new Map<string, { type: number; content: Buffer }>()
let baseCacheBytes = 0
const BASE_CACHE_BYTES = 32 * 1024 * 1024

function rememberBase(key: string, obj: { type: number; content: Buffer }): void {
  if (obj.content.length > BASE_CACHE_BYTES / 8) return
  baseCache.set(key, obj)
  baseCacheBytes += obj.content.length
  while (baseCacheBytes > BASE_CACHE_BYTES) {
    const [oldKey, old] = baseCache.entries().next().value!
    baseCache.delete(oldKey)
    baseCacheBytes -= old.content.length
  }
}

type Entry = { type: number; size: number; data: Buffer; baseOffset: number; baseOid: string | null }

function readEntry(fd: number, idx: PackIndex, offset: number): Entry {
  const len = objectEnd(idx, offset) - offset
  const buf = Buffer.allocUnsafe(len)
  for (let got = 0; got < len; ) {
    const n = readSync(fd, buf, got, len - got, offset + got)
    if (n === 0) throw new Error(`${idx.packFile}: truncated at offset ${offset}`)
    got += n
  }
  let p = 0
  let c = buf[p++]!
  const type = (c >> 4) & 7
  let size = c & 15
  for (let shift = 4; c & 0x80; shift += 7) {
    c = buf[p++]!
    size += (c & 0x7f) * 2 ** shift
  }
  let baseOffset = -1
  let baseOid: string | null = null
  if (type === OFS_DELTA) {
    c = buf[p++]!
    let back = c & 0x7f
    while (c & 0x80) {
      c = buf[p++]!
      back = (back + 1) * 128 + (c & 0x7f)
    }
    baseOffset = offset - back
  } else if (type === REF_DELTA) {
    baseOid = buf.toString('hex', p, p + 20)
    p += 20
  } else if (!TYPES[type]) throw new Error(`${idx.packFile}: unknown object type ${type} at offset ${offset}`)
  const data = inflateSync(buf.subarray(p))
  if (data.length !== size) throw new Error(`${idx.packFile}: object at offset ${offset} inflates to ${data.length} bytes, not ${size}`)
  return { type, size, data, baseOffset, baseOid }
}

/**
 * Reads the object at position `i` of `idx`, resolving its delta chain: walk back to a cached or
 * whole base, then apply the deltas forward. REF_DELTA bases come from `byOid` (any pack or loose).
 */
function readPacked(idx: PackIndex, i: number, byOid: (oid: string) => RawObject | null): RawObject {
  const fd = openSync(idx.packFile, 'r')
  try {
    const chain: { offset: number; delta: Buffer }[] = []
    let offset = idx.offsets[i]!
    let base: { type: number; content: Buffer } | undefined
    for (;;) {
      base = baseCache.get(`${idx.packFile}:${offset}`)
      if (base) break
      const e = readEntry(fd, idx, offset)
      if (e.baseOffset >= 0) {
        chain.push({ offset, delta: e.data })
        offset = e.baseOffset
      } else if (e.baseOid) {
        chain.push({ offset, delta: e.data })
        const ext = byOid(e.baseOid)
        if (!ext) throw new Error(`${idx.packFile}: delta base ${e.baseOid} is missing`)
        base = { type: TYPES.indexOf(ext.type as (typeof TYPES)[number]), content: Buffer.from(ext.content.buffer, ext.content.byteOffset, ext.content.byteLength) }
        break
      } else {
        base = { type: e.type, content: e.data }
        if (chain.length > 0) rememberBase(`${idx.packFile}:${offset}`, base)
        break
      }
      if (chain.length > 10_000) throw new Error(`${idx.packFile}: delta chain too long`)
    }
    for (let k = chain.length - 1; k >= 0; k--) {
      base = { type: base.type, content: applyDelta(base.content, chain[k]!.delta) }
      if (k > 0) rememberBase(`${idx.packFile}:${chain[k]!.offset}`, base)
    }
    return { type: TYPES[base.type]!, content: base.content }
  } finally {
    closeSync(fd)
  }
}

function readLoose(gitdir: string, oid: string): RawObject | null {
  let raw: Buffer
  try {
    raw = readFileSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
  const wrapped = inflateSync(raw)
  if (new Bun.CryptoHasher('sha1').update(wrapped).digest('hex') !== oid) throw new Error(`loose object ${oid} is corrupt (hash mismatch)`)
  const nul = wrapped.indexOf(0)
  const [type, size] = wrapped.toString('latin1', 0, nul).split(' ')
  const content = wrapped.subarray(nul + 1)
  if (Number(size) !== content.length) throw new Error(`loose object ${oid} is corrupt (size mismatch)`)
  return { type: type!, content }
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

/** Looks `oid` up in each gitdir's packs and loose objects, in order; null when none has it. */
export function readRawObject(gitdirs: string[], oid: string): RawObject | null {
  if (oid === EMPTY_TREE) return { type: 'tree', content: new Uint8Array(0) }
  const key = Buffer.from(oid, 'hex')
  const byOid = (other: string) => readRawObject(gitdirs, other)
  for (const gitdir of gitdirs) {
    const packed = readFromPacks(gitdir, key, byOid)
    if (packed) return packed
    const loose = readLoose(gitdir, oid)
    if (loose) return loose
  }
  // a concurrent gc may have packed a loose object after its packs were searched
  for (const gitdir of gitdirs) {
    const packed = readFromPacks(gitdir, key, byOid)
    if (packed) return packed
  }
  return null
}

function readFromPacks(gitdir: string, key: Buffer, byOid: (oid: string) => RawObject | null): RawObject | null {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const idx of packIndexes(gitdir)) {
        const i = findInIndex(idx, key)
        if (i >= 0) return readPacked(idx, i, byOid)
      }
      return null
    } catch (err) {
      // a repack removed the pack between listing and reading it: list again, as git does
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err
      const packDir = join(gitdir, 'objects', 'pack')
      for (const file of [...indexCache.keys()]) if (file.startsWith(packDir + '/')) forgetIndex(file)
    }
  }
}
