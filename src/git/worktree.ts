/**
 * What is in the working tree, cheaply: tracked files are judged by the stat data kept in
 * .git/index (git's own rule, racy timestamps included) so unchanged files are never read or
 * hashed; untracked files come from a directory walk that skips ignored directories.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import git from 'isomorphic-git'
import * as fs from 'node:fs'
import { readIndex, type GitIndex, type IndexEntry } from './dirc'
import { isIgnored, loadExclude, loadIgnoreFile, type RuleSet } from './ignore'
import { hashObject, type Repo } from './odb'

export type WorkFile = {
  path: string
  mode: string
  /** Blob oid when known without reading (stat matches the index); null until hashed. */
  oid: string | null
  stat: Stats | null
  entry: IndexEntry | null
}

export type WorkingSet = { index: GitIndex; files: Map<string, WorkFile> }

export async function fileModeTrusted(repo: Repo): Promise<boolean> {
  const v = await git.getConfig({ fs, gitdir: repo.gitdir, path: 'core.filemode' })
  return v === undefined || v === true || v === 'true'
}

const modeString = (mode: number) => mode.toString(8).padStart(6, '0')

/** Mode git would record for this stat (100644/100755/120000), honouring core.filemode=false. */
export function statMode(st: Stats, trustMode: boolean, fallback?: number): string {
  if (st.isSymbolicLink()) return '120000'
  if (!trustMode && fallback !== undefined && (fallback === 0o100644 || fallback === 0o100755)) return modeString(fallback)
  return st.mode & 0o100 ? '100755' : '100644'
}

const near = (ms: number, sec: number, nsec: number) => Math.abs(ms - (sec * 1000 + nsec / 1e6)) < 0.001

/** ie_match_stat: true when the file certainly still has the entry's content. */
export function statMatches(e: IndexEntry, st: Stats, index: GitIndex): boolean {
  if (e.size !== st.size % 2 ** 32) return false
  if (!near(st.mtimeMs, e.mtimeSec, e.mtimeNsec) || !near(st.ctimeMs, e.ctimeSec, e.ctimeNsec)) return false
  if (e.ino !== st.ino % 2 ** 32) return false
  if (((e.mode & 0o170000) === 0o120000) !== st.isSymbolicLink()) return false
  // racily clean: modified in the same instant the index was written
  const racy = index.mtimeSec < e.mtimeSec || (index.mtimeSec === e.mtimeSec && index.mtimeNsec <= e.mtimeNsec)
  return !racy
}

/** Bytes git would store for a working file: its content, or a symlink's target. */
export function readWorkContent(absPath: string, st: Stats): Uint8Array {
  if (st.isSymbolicLink()) return Buffer.from(readlinkSync(absPath, 'buffer'))
  return readFileSync(absPath)
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

/** Tracked files (present ones) and untracked, not-ignored files, keyed by repo-relative path. */
export async function readWorkingSet(repo: Repo): Promise<WorkingSet> {
  const index = readIndex(repo.gitdir)
  const trustMode = await fileModeTrusted(repo)
  const files = new Map<string, WorkFile>()
  const tracked = new Set<string>()
  for (const e of index.entries) {
    tracked.add(e.path)
    if (files.has(e.path)) {
      // a conflicted path has several stages: its working file is simply "changed"
      files.get(e.path)!.oid = null
      continue
    }
    if ((e.mode & 0o170000) === 0o160000 || e.skipWorktree) {
      files.set(e.path, { path: e.path, mode: modeString(e.mode), oid: e.oid, stat: null, entry: e })
      continue
    }
    const st = lstatOrNull(join(repo.dir, e.path))
    if (!st || !(st.isFile() || st.isSymbolicLink())) continue
    const clean = e.stage === 0 && !e.intentToAdd && statMatches(e, st, index)
    files.set(e.path, { path: e.path, mode: statMode(st, trustMode, e.mode), oid: clean ? e.oid : null, stat: st, entry: e })
  }
  const trackedDirs = new Set<string>()
  for (const p of tracked) {
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) trackedDirs.add(p.slice(0, i))
  }
  const exclude = loadExclude(repo.gitdir)
  walkUntracked(repo, '', exclude ? [exclude] : [], tracked, trackedDirs, trustMode, files)
  return { index, files }
}

function walkUntracked(
  repo: Repo,
  rel: string,
  parentStack: RuleSet[],
  tracked: Set<string>,
  trackedDirs: Set<string>,
  trustMode: boolean,
  out: Map<string, WorkFile>,
): void {
  const abs = rel === '' ? repo.dir : join(repo.dir, rel)
  const own = loadIgnoreFile(repo.dir, rel)
  const stack = own ? [...parentStack, own] : parentStack
  let dirents
  try {
    dirents = readdirSync(abs, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return
    throw err
  }
  for (const d of dirents) {
    const name = d.name
    if (name === '.git' && rel === '') continue
    const path = rel === '' ? name : `${rel}/${name}`
    if (d.isDirectory()) {
      if (name === '.git') continue
      // untracked files inside an ignored directory are ignored even next to tracked ones,
      // and tracked files are found through the index, so an ignored directory is never walked
      if (isIgnored(stack, path, true)) continue
      // a nested repository is listed by git as one untracked entry, never descended into
      if (!trackedDirs.has(path) && lstatOrNull(join(abs, name, '.git'))) continue
      walkUntracked(repo, path, stack, tracked, trackedDirs, trustMode, out)
    } else if (d.isFile() || d.isSymbolicLink()) {
      if (tracked.has(path) || isIgnored(stack, path, false)) continue
      const st = lstatSync(join(abs, name))
      out.set(path, { path, mode: statMode(st, trustMode), oid: null, stat: st, entry: null })
    }
  }
}

/** Fills in the oid of a working file (hashing it) and returns its bytes when they had to be read. */
export function hashWorkFile(repo: Repo, f: WorkFile): { oid: string; bytes: Uint8Array | null } {
  if (f.oid) return { oid: f.oid, bytes: null }
  const bytes = readWorkContent(join(repo.dir, f.path), f.stat!)
  f.oid = hashObject('blob', bytes)
  return { oid: f.oid, bytes }
}
