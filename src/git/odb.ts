/**
 * Repository handle and object access: objects are read by pack.ts (loose and packed, across
 * objects/info/alternates); this adds a process-wide cache of immutable tree objects, git's
 * unique-abbreviation rule, and writes loose objects itself (no hooks or filters can run).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import * as fs from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { git } from './isogit'
import { BadRequestError, ConflictError, NotFoundError } from '../errors'
import { loadZlib, packIndexes, readRawObject } from './pack'

export type TreeEntry = { mode: string; name: string; oid: string }

export type Repo = {
  /** Working tree root (real path). */
  dir: string
  gitdir: string
  /** Git dirs whose `objects/` are searched, own first, then alternates. */
  objectGitdirs: string[]
}

export function openRepo(dir: string): Repo {
  const root = resolve(dir)
  const dotgit = join(root, '.git')
  let gitdir: string
  let st
  try {
    st = statSync(dotgit)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
    // A repo deleted under a live session is a conflict with the session, not a bad request.
    if (!existsSync(root)) {
      throw new ConflictError(`The repository ${dir} no longer exists; start a session on an existing repository.`, 'repo_missing')
    }
    throw new BadRequestError(`${dir} is not a git repository (no .git); run \`git init\` in it first.`, 'not_a_repo')
  }
  if (st.isDirectory()) gitdir = dotgit
  else {
    const m = /^gitdir: (.*)$/m.exec(readFileSync(dotgit, 'utf8'))
    if (!m) throw new BadRequestError(`${dotgit} is neither a directory nor a gitdir link.`, 'not_a_repo')
    gitdir = resolve(root, m[1]!.trim())
  }
  if (existsSync(join(gitdir, 'commondir'))) {
    throw new BadRequestError(`${dir} is a linked worktree; use the main checkout instead.`, 'unsupported_repo')
  }
  return { dir: fs.realpathSync(root), gitdir, objectGitdirs: [gitdir, ...alternateGitdirs(join(gitdir, 'objects'), 0)] }
}


function alternateGitdirs(objectsDir: string, depth: number): string[] {
  const file = join(objectsDir, 'info', 'alternates')
  if (depth > 5 || !existsSync(file)) return []
  const out: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const p = line.trim()
    if (!p || p.startsWith('#')) continue
    const objs = isAbsolute(p) ? p : resolve(objectsDir, p)
    out.push(dirname(objs), ...alternateGitdirs(objs, depth + 1))
  }
  return out
}

export async function readObject(repo: Repo, oid: string): Promise<{ type: string; content: Uint8Array }> {
  const obj = readRawObject(repo.objectGitdirs, oid)
  if (!obj) throw new NotFoundError(`git object ${oid} is missing from the repository.`, 'object_missing')
  return obj
}

export async function readBlob(repo: Repo, oid: string): Promise<Uint8Array> {
  return (await readObject(repo, oid)).content
}

const treeCache = new Map<string, TreeEntry[]>()

/** A tree's entries; trees are immutable, so the parsed form is cached process-wide by oid. */
export async function readTree(repo: Repo, oid: string): Promise<TreeEntry[]> {
  const hit = treeCache.get(oid)
  if (hit) return hit
  const { type, content } = await readObject(repo, oid)
  if (type !== 'tree') throw new Error(`object ${oid} is a ${type}, not a tree`)
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength)
  const entries: TreeEntry[] = []
  let off = 0
  while (off < buf.length) {
    const sp = buf.indexOf(32, off)
    const nul = buf.indexOf(0, sp)
    const mode = buf.toString('latin1', off, sp).padStart(6, '0')
    entries.push({ mode, name: buf.toString('utf8', sp + 1, nul), oid: buf.toString('hex', nul + 1, nul + 21) })
    off = nul + 21
  }
  if (treeCache.size > 50_000) treeCache.clear()
  treeCache.set(oid, entries)
  return entries
}

/** Flattens a tree into path → {mode, oid} for its blobs, symlinks and gitlinks. */
export async function flattenTree(repo: Repo, oid: string | null, prefix = '', out = new Map<string, { mode: string; oid: string }>()) {
  if (!oid) return out
  for (const e of await readTree(repo, oid)) {
    const path = prefix + e.name
    if (e.mode === '040000') await flattenTree(repo, e.oid, path + '/', out)
    else out.set(path, { mode: e.mode, oid: e.oid })
  }
  return out
}

/** Resolves HEAD, a branch, tag, remote ref or (abbreviated) sha to a commit; null for an unborn HEAD. */
export async function resolveCommit(repo: Repo, rev: string): Promise<string | null> {
  let oid: string | null = null
  // Resolving a ref reads files named after it under .git: a control character (NUL makes the fs
  // call throw) can be in no ref name, and a name too long for a file (ENAMETOOLONG) names no ref.
  if (/[\x00-\x1f\x7f]/.test(rev)) throw new BadRequestError('revision contains a control character.', 'invalid_revision')
  if (/^[0-9a-f]{40}$/i.test(rev)) oid = rev.toLowerCase()
  else {
    try {
      oid = await git.resolveRef({ fs, gitdir: repo.gitdir, ref: rev })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'ENAMETOOLONG') throw new NotFoundError(`unknown revision "${rev}".`, 'unknown_revision')
      if (code !== 'NotFoundError') throw err
      if (rev === 'HEAD') return null
      if (/^[0-9a-f]{4,39}$/i.test(rev)) oid = expandAbbrev(repo, rev.toLowerCase())
    }
  }
  if (!oid) throw new NotFoundError(`unknown revision "${rev}".`, 'unknown_revision')
  for (let depth = 0; depth < 10; depth++) {
    let obj
    try {
      obj = await readObject(repo, oid)
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`unknown revision "${rev}".`, 'unknown_revision')
      throw err
    }
    if (obj.type === 'commit') return oid
    if (obj.type !== 'tag') break
    const m = /^object ([0-9a-f]{40})$/m.exec(Buffer.from(obj.content).toString('latin1'))
    if (!m) break
    oid = m[1]!
  }
  throw new BadRequestError(`revision "${rev}" does not name a commit.`, 'not_a_commit')
}

export async function commitTree(repo: Repo, commit: string | null): Promise<string | null> {
  if (!commit) return null
  const { content } = await readObject(repo, commit)
  const m = /^tree ([0-9a-f]{40})$/m.exec(Buffer.from(content).toString('latin1'))
  if (!m) throw new Error(`commit ${commit} has no tree line`)
  return m[1]!
}

export function hashObject(type: string, content: Uint8Array): string {
  return new Bun.CryptoHasher('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex')
}

/** Writes a loose object into `gitdir` unless it is already there; returns its oid. */
export function writeObject(gitdir: string, type: string, content: Uint8Array): string {
  const oid = hashObject(type, content)
  const dir = join(gitdir, 'objects', oid.slice(0, 2))
  const file = join(dir, oid.slice(2))
  if (existsSync(file)) return oid
  mkdirSync(dir, { recursive: true })
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  writeFileSync(tmp, loadZlib().deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content])), { mode: 0o444 })
  renameSync(tmp, file)
  return oid
}

// ---- abbreviation, as repo_find_unique_abbrev does it ----

function commonHexPrefix(a: string, b: string): number {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return i
}

/** Returns a function giving git's abbreviation of an oid in this repository (7 hex or longer when needed). */
export function abbreviator(repo: Repo): (oid: string) => string {
  const packs = repo.objectGitdirs.flatMap(packIndexes)
  const count = packs.reduce((n, p) => n + p.count, 0)
  let msb = 0
  for (let x = count; (x >>= 1); ) msb++
  const minLen = Math.max(7, Math.ceil((msb + 1) / 2))
  const looseDirs = new Map<string, string[]>()
  const loose = (prefix: string): string[] => {
    let names = looseDirs.get(prefix)
    if (!names) {
      names = []
      for (const gitdir of repo.objectGitdirs) {
        const d = join(gitdir, 'objects', prefix)
        if (existsSync(d)) for (const n of readdirSync(d)) if (n.length === 38) names.push(prefix + n)
      }
      looseDirs.set(prefix, names)
    }
    return names
  }
  return (oid: string) => {
    if (/^0+$/.test(oid)) return oid.slice(0, minLen)
    let len = minLen
    for (const other of loose(oid.slice(0, 2))) if (other !== oid) len = Math.max(len, commonHexPrefix(oid, other) + 1)
    const key = Buffer.from(oid, 'hex')
    for (const p of packs) {
      let lo = 0
      let hi = p.count
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (p.names.compare(key, 0, 20, mid * 20, mid * 20 + 20) < 0) lo = mid + 1
        else hi = mid
      }
      for (const i of [lo - 1, lo, lo + 1]) {
        if (i < 0 || i >= p.count) continue
        const other = p.names.toString('hex', i * 20, i * 20 + 20)
        if (other !== oid) len = Math.max(len, commonHexPrefix(oid, other) + 1)
      }
    }
    return oid.slice(0, Math.min(len, 40))
  }
}

function expandAbbrev(repo: Repo, prefix: string): string | null {
  const found = new Set<string>()
  for (const gitdir of repo.objectGitdirs) {
    const d = join(gitdir, 'objects', prefix.slice(0, 2))
    if (existsSync(d)) for (const n of readdirSync(d)) if ((prefix.slice(0, 2) + n).startsWith(prefix) && n.length === 38) found.add(prefix.slice(0, 2) + n)
  }
  for (const p of repo.objectGitdirs.flatMap(packIndexes)) {
    for (let i = 0; i < p.count; i++) {
      const name = p.names.toString('hex', i * 20, i * 20 + 20)
      if (name.startsWith(prefix)) found.add(name)
    }
  }
  if (found.size > 1) throw new BadRequestError(`revision "${prefix}" is ambiguous.`, 'ambiguous_revision')
  return found.values().next().value ?? null
}
