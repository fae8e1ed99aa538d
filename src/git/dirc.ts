/**
 * Reads and writes `.git/index` (the DIRC format, versions 2, 3 and 4) directly: isomorphic-git's
 * statusMatrix re-reads and re-hashes far more than needed, and its index writer cannot be told
 * to leave unrelated entries alone. Only what the diff, commit and workspace code need is kept.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ConflictError } from '../errors'

export type IndexEntry = {
  path: string
  ctimeSec: number
  ctimeNsec: number
  mtimeSec: number
  mtimeNsec: number
  dev: number
  ino: number
  /** Numeric mode: 0o100644, 0o100755, 0o120000 or 0o160000. */
  mode: number
  uid: number
  gid: number
  size: number
  oid: string
  stage: number
  assumeValid: boolean
  skipWorktree: boolean
  intentToAdd: boolean
}

/** A cache-tree (TREE extension) node: the tree oid of a directory, or null when invalidated. */
export type CacheTree = Map<string, string | null>

export type GitIndex = {
  version: number
  entries: IndexEntry[]
  /** Directory ("" for the root) → tree oid, when the index's TREE extension is valid there. */
  cacheTree: CacheTree
  /** The index file's own mtime, for git's racy-timestamp rule; 0 when there is no index. */
  mtimeSec: number
  mtimeNsec: number
}

const EMPTY: GitIndex = { version: 2, entries: [], cacheTree: new Map(), mtimeSec: 0, mtimeNsec: 0 }

/** Parsed indexes of the repos used last (a workspace each, in a long-running server): bounded. */
const parsed = new Map<string, { key: string; index: GitIndex }>()
const MAX_PARSED = 8

/** Reads `<gitdir>/index`; an absent file is an empty index. Parsed results are reused while the file is unchanged. */
export function readIndex(gitdir: string): GitIndex {
  const file = join(gitdir, 'index')
  let st
  try {
    st = statSync(file, { bigint: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
    throw err
  }
  const key = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  const hit = parsed.get(file)
  parsed.delete(file)
  if (hit && hit.key === key) {
    parsed.set(file, hit)
    return hit.index
  }
  const index = parseIndex(readFileSync(file))
  index.mtimeSec = Number(st.mtimeNs / 1_000_000_000n)
  index.mtimeNsec = Number(st.mtimeNs % 1_000_000_000n)
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!)
  parsed.set(file, { key, index })
  return index
}

export function parseIndex(buf: Buffer): GitIndex {
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DIRC') throw new Error('.git/index is not a DIRC file')
  const version = buf.readUInt32BE(4)
  if (version < 2 || version > 4) throw new Error(`.git/index version ${version} is not supported`)
  const count = buf.readUInt32BE(8)
  const end = buf.length - 20
  const entries: IndexEntry[] = new Array(count)
  let off = 12
  let prev = ''
  for (let i = 0; i < count; i++) {
    const start = off
    const flags = buf.readUInt16BE(off + 60)
    let extended = 0
    off += 62
    if (flags & 0x4000) {
      extended = buf.readUInt16BE(off)
      off += 2
    }
    let path: string
    if (version === 4) {
      let c = buf[off++]!
      let strip = c & 127
      while (c & 128) {
        c = buf[off++]!
        strip = ((strip + 1) << 7) | (c & 127)
      }
      const nul = buf.indexOf(0, off)
      const prefix = Buffer.from(prev, 'utf8')
      path = Buffer.concat([prefix.subarray(0, prefix.length - strip), buf.subarray(off, nul)]).toString('utf8')
      off = nul + 1
    } else {
      const nul = buf.indexOf(0, off)
      path = buf.toString('utf8', off, nul)
      off = start + ((nul - start + 8) & ~7)
    }
    prev = path
    entries[i] = {
      path,
      ctimeSec: buf.readUInt32BE(start),
      ctimeNsec: buf.readUInt32BE(start + 4),
      mtimeSec: buf.readUInt32BE(start + 8),
      mtimeNsec: buf.readUInt32BE(start + 12),
      dev: buf.readUInt32BE(start + 16),
      ino: buf.readUInt32BE(start + 20),
      mode: buf.readUInt32BE(start + 24),
      uid: buf.readUInt32BE(start + 28),
      gid: buf.readUInt32BE(start + 32),
      size: buf.readUInt32BE(start + 36),
      oid: buf.toString('hex', start + 40, start + 60),
      stage: (flags >> 12) & 3,
      assumeValid: (flags & 0x8000) !== 0,
      skipWorktree: (extended & 0x4000) !== 0,
      intentToAdd: (extended & 0x2000) !== 0,
    }
  }
  const cacheTree: CacheTree = new Map()
  while (off + 8 <= end) {
    const sig = buf.toString('latin1', off, off + 4)
    const size = buf.readUInt32BE(off + 4)
    const data = buf.subarray(off + 8, off + 8 + size)
    if (sig === 'TREE') parseCacheTree(data, cacheTree)
    else if (sig === 'link' || sig === 'sdir') {
      throw new Error(`.git/index uses the "${sig}" extension (split or sparse index), which is not supported`)
    }
    off += 8 + size
  }
  return { version, entries, cacheTree, mtimeSec: 0, mtimeNsec: 0 }
}

/** TREE extension: pre-order nodes of "path\0entry_count subtrees\n[oid]"; entry_count -1 = invalid. */
function parseCacheTree(data: Buffer, out: CacheTree): void {
  let off = 0
  const walk = (prefix: string): void => {
    const nul = data.indexOf(0, off)
    const name = data.toString('utf8', off, nul)
    const nl = data.indexOf(10, nul)
    const [countText, subText] = data.toString('latin1', nul + 1, nl).split(' ')
    off = nl + 1
    const count = Number(countText)
    const path = prefix === '' ? name : name === '' ? prefix : `${prefix}/${name}`
    if (count >= 0) {
      out.set(path, data.toString('hex', off, off + 20))
      off += 20
    } else {
      out.set(path, null)
    }
    const subtrees = Number(subText)
    for (let i = 0; i < subtrees; i++) walk(path)
  }
  if (data.length > 0) walk('')
}

/** Path order of the index: byte order of the UTF-8 names (= code point order). */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // UTF-16 order differs from code point order only around surrogates.
    if (x >= 0xd800 || y >= 0xd800) return Buffer.compare(Buffer.from(a.slice(i), 'utf8'), Buffer.from(b.slice(i), 'utf8'))
    return x - y
  }
  return a.length - b.length
}

/** Serialises entries (version 2, or 3 when an extended flag is used), without extensions. */
export function serializeIndex(entries: IndexEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path) || a.stage - b.stage)
  const version = sorted.some((e) => e.skipWorktree || e.intentToAdd) ? 3 : 2
  const parts: Buffer[] = []
  const header = Buffer.alloc(12)
  header.write('DIRC', 0, 'latin1')
  header.writeUInt32BE(version, 4)
  header.writeUInt32BE(sorted.length, 8)
  parts.push(header)
  for (const e of sorted) {
    const name = Buffer.from(e.path, 'utf8')
    const ext = version === 3 && (e.skipWorktree || e.intentToAdd)
    const fixed = 62 + (ext ? 2 : 0)
    const len = (fixed + name.length + 8) & ~7
    const b = Buffer.alloc(len)
    b.writeUInt32BE(e.ctimeSec >>> 0, 0)
    b.writeUInt32BE(e.ctimeNsec >>> 0, 4)
    b.writeUInt32BE(e.mtimeSec >>> 0, 8)
    b.writeUInt32BE(e.mtimeNsec >>> 0, 12)
    b.writeUInt32BE(e.dev >>> 0, 16)
    b.writeUInt32BE(e.ino >>> 0, 20)
    b.writeUInt32BE(e.mode >>> 0, 24)
    b.writeUInt32BE(e.uid >>> 0, 28)
    b.writeUInt32BE(e.gid >>> 0, 32)
    b.writeUInt32BE(e.size >>> 0, 36)
    b.write(e.oid, 40, 'hex')
    const flags = (e.assumeValid ? 0x8000 : 0) | (ext ? 0x4000 : 0) | ((e.stage & 3) << 12) | Math.min(name.length, 0xfff)
    b.writeUInt16BE(flags, 60)
    if (ext) b.writeUInt16BE((e.skipWorktree ? 0x4000 : 0) | (e.intentToAdd ? 0x2000 : 0), 62)
    name.copy(b, fixed)
    parts.push(b)
  }
  const body = Buffer.concat(parts)
  return Buffer.concat([body, new Bun.CryptoHasher('sha1').update(body).digest()])
}

/**
 * Writes the index the way git does: take `index.lock` exclusively (a concurrent git command
 * makes this a 409, never a corrupt index), write, fsync, rename over `index`.
 */
export function writeIndex(gitdir: string, entries: IndexEntry[]): void {
  const lock = join(gitdir, 'index.lock')
  let fd: number
  try {
    fd = openSync(lock, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError('Another git process holds .git/index.lock; try again when it has finished.', 'index_locked')
    }
    throw err
  }
  let open = true
  try {
    writeSync(fd, serializeIndex(entries))
    fsyncSync(fd)
    open = false
    closeSync(fd)
    renameSync(lock, join(gitdir, 'index'))
  } catch (err) {
    if (open) closeSync(fd)
    unlinkSync(lock)
    throw err
  }
}
