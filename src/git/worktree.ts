/**
 * What is in the working tree, cheaply: tracked files are judged by the stat data kept in
 * .git/index (git's own rule, racy timestamps included) so unchanged files are never read or
 * hashed; untracked files come from a directory walk that skips ignored directories.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs'
import { join } from 'node:path'
import { promises as fsp } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Converter } from './convert'
import { coreConfig } from './coreconfig'
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
  /** Position of `entry` in index.entries (the first stage of a conflicted path); -1 when untracked. */
  at: number
}

export type WorkingSet = {
  index: GitIndex
  files: Map<string, WorkFile>
  /** By index position: 1 when that entry's path is in `files` (so a 0 on a stage-0 entry is a deleted file). */
  present: Uint8Array
  /** Clean/smudge (end-of-line conversion) for this working tree, index and config. */
  convert: Converter
}

/** core.filemode (coreconfig.ts re-reads .git/config only when it changes). */
export async function fileModeTrusted(repo: Repo): Promise<boolean> {
  return (await coreConfig(repo)).fileMode
}

// file type bits of st_mode (Stats' isSymbolicLink() and friends are method calls per file)
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000

const modeString = (mode: number) => mode.toString(8).padStart(6, '0')

/** Mode git would record for this stat (100644/100755/120000), honouring core.filemode=false. */
export function statMode(st: Stats, trustMode: boolean, fallback?: number): string {
  if ((st.mode & S_IFMT) === S_IFLNK) return '120000'
  if (!trustMode && fallback !== undefined && (fallback === 0o100644 || fallback === 0o100755)) return modeString(fallback)
  return st.mode & 0o100 ? '100755' : '100644'
}

const near = (ms: number, sec: number, nsec: number) => Math.abs(ms - (sec * 1000 + nsec / 1e6)) < 0.001

/** ie_match_stat: true when the file certainly still has the entry's content. */
export function statMatches(e: IndexEntry, st: Stats, index: GitIndex): boolean {
  if (e.size !== st.size % 2 ** 32) return false
  if (!near(st.mtimeMs, e.mtimeSec, e.mtimeNsec) || !near(st.ctimeMs, e.ctimeSec, e.ctimeNsec)) return false
  if (e.ino !== st.ino % 2 ** 32) return false
  if (((e.mode & S_IFMT) === S_IFLNK) !== ((st.mode & S_IFMT) === S_IFLNK)) return false
  // racily clean: modified in the same instant the index was written
  const racy = index.mtimeSec < e.mtimeSec || (index.mtimeSec === e.mtimeSec && index.mtimeNsec <= e.mtimeNsec)
  return !racy
}

/** Bytes git would store for a working file: its content, or a symlink's target. */
export function readWorkContent(absPath: string, st: Stats): Uint8Array {
  if (st.isSymbolicLink()) return Buffer.from(readlinkSync(absPath, 'buffer'))
  return readFileSync(absPath)
}

/** The lstat of a path, or null when nothing is there (or a parent is not a directory). */
export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

/** What an index implies for reading a working tree, worked out once per parsed index. */
type IndexPlan = {
  dir: string
  /** Absolute path of each index entry, by position. */
  abs: string[]
  /** Directory ("" for the root) → names of the tracked paths directly in it. */
  namesByDir: Map<string, Set<string>>
  /** Every directory above a tracked path. */
  trackedDirs: Set<string>
  /** Positions of the entries whose working file is lstat'ed: not gitlinks, skip-worktree or later stages of a path. */
  statAt: Int32Array
}

const plans = new WeakMap<GitIndex, IndexPlan>()

function planFor(index: GitIndex, dir: string): IndexPlan {
  const hit = plans.get(index)
  if (hit && hit.dir === dir) return hit
  const abs: string[] = new Array(index.entries.length)
  const namesByDir = new Map<string, Set<string>>()
  const trackedDirs = new Set<string>()
  const prefix = dir.endsWith('/') ? dir : dir + '/'
  const statAt: number[] = []
  for (let i = 0; i < index.entries.length; i++) {
    const e = index.entries[i]!
    const path = e.path
    abs[i] = prefix + path
    if ((i === 0 || index.entries[i - 1]!.path !== path) && (e.mode & S_IFMT) !== 0o160000 && !e.skipWorktree) statAt.push(i)
    const slash = path.lastIndexOf('/')
    const parent = slash < 0 ? '' : path.slice(0, slash)
    let names = namesByDir.get(parent)
    if (!names) {
      names = new Set()
      namesByDir.set(parent, names)
      for (let j = path.indexOf('/'); j >= 0; j = path.indexOf('/', j + 1)) trackedDirs.add(path.slice(0, j))
    }
    names.add(path.slice(slash + 1))
  }
  const plan = { dir, abs, namesByDir, trackedDirs, statAt: Int32Array.from(statAt) }
  plans.set(index, plan)
  return plan
}

/**
 * git's preload-index lstats the index from several threads; here a share of the calls goes to
 * Bun's fs thread pool while this thread does the rest and the untracked walk. Measured on 2
 * cores, idle and with both cores busy: half to the pool made a 10k-file diff 15-20% faster
 * than all-sync (no worse under load); the share grows with the cores, up to 0.8. Below
 * POOL_MIN files the pool's per-call cost outweighs what it saves.
 */
const POOL_MIN = 2048
const POOL_SHARE = Math.min(0.8, 1 - 1 / Math.max(2, availableParallelism()))

/**
 * lstat of each tracked path that has a working file to look at, by index position. The pool's
 * share is started first and `meanwhile` (the untracked walk) runs here after this thread's share.
 */
async function lstatTracked(plan: IndexPlan, meanwhile: () => void): Promise<(Stats | null)[]> {
  const { abs, statAt } = plan
  const out: (Stats | null)[] = new Array(abs.length)
  const cut = statAt.length >= POOL_MIN ? Math.floor(statAt.length * POOL_SHARE) : 0
  const pooled: Promise<Stats | null>[] = new Array(cut)
  for (let k = 0; k < cut; k++) pooled[k] = lstatAsync(abs[statAt[k]!]!)
  const pending = Promise.all(pooled)
  try {
    for (let k = cut; k < statAt.length; k++) out[statAt[k]!] = lstatOrNull(abs[statAt[k]!]!)
    meanwhile()
  } catch (err) {
    // never leave the pooled calls' rejection unhandled
    await pending.catch(() => undefined)
    throw err
  }
  const got = await pending
  for (let k = 0; k < cut; k++) out[statAt[k]!] = got[k]!
  return out
}

function lstatAsync(p: string): Promise<Stats | null> {
  return fsp.lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null
    throw err
  })
}

/**
 * Tracked files (present ones) and untracked, not-ignored files, keyed by repo-relative path.
 * Given `against` (an index and the base-tree entry for each of its positions), a tracked file
 * whose stat data is clean and whose blob and mode equal its base entry is only marked `present`:
 * a diff has nothing to do with it, and most files of a big tree are such files.
 */
export async function readWorkingSet(repo: Repo, against?: { index: GitIndex; base: readonly ({ mode: string; oid: string } | undefined)[] }): Promise<WorkingSet> {
  const index = against?.index ?? readIndex(repo.gitdir)
  const base = against?.base
  const core = await coreConfig(repo)
  const trustMode = core.fileMode
  const plan = planFor(index, repo.dir)
  const files = new Map<string, WorkFile>()
  const entries = index.entries
  const present = new Uint8Array(entries.length)
  const untracked = new Map<string, WorkFile>()
  const stats = await lstatTracked(plan, () => {
    const exclude = loadExclude(repo.gitdir)
    walkUntracked(repo, '', exclude ? [exclude] : [], plan, trustMode, untracked)
  })
  let prevPath = ''
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.path === prevPath) {
      // a conflicted path has several (adjacent) stages: its working file is simply "changed"
      const f = files.get(e.path)
      if (f) f.oid = null
      continue
    }
    prevPath = e.path
    if ((e.mode & S_IFMT) === 0o160000 || e.skipWorktree) {
      files.set(e.path, { path: e.path, mode: modeString(e.mode), oid: e.oid, stat: null, entry: e, at: i })
      present[i] = 1
      continue
    }
    const st = stats[i]
    if (!st) continue
    const fmt = st.mode & S_IFMT
    if (fmt !== S_IFREG && fmt !== S_IFLNK) continue
    const clean = e.stage === 0 && !e.intentToAdd && statMatches(e, st, index)
    const mode = statMode(st, trustMode, e.mode)
    present[i] = 1
    if (clean && base) {
      const b = base[i]
      if (b && b.oid === e.oid && b.mode === mode) continue
    }
    files.set(e.path, { path: e.path, mode, oid: clean ? e.oid : null, stat: st, entry: e, at: i })
  }
  for (const [path, f] of untracked) files.set(path, f)
  return { index, files, present, convert: new Converter(repo, index, core) }
}

function walkUntracked(repo: Repo, rel: string, parentStack: RuleSet[], plan: IndexPlan, trustMode: boolean, out: Map<string, WorkFile>): void {
  const abs = rel === '' ? repo.dir : join(repo.dir, rel)
  let dirents
  try {
    dirents = readdirSync(abs, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return
    throw err
  }
  // One pass sets tracked files aside (most entries of a big tree; the index covers them) and
  // notes a .gitignore from the listing itself, with no existence check per directory.
  const tracked = plan.namesByDir.get(rel)
  let hasIgnoreFile = false
  const rest: Dirent[] = []
  for (const d of dirents) {
    const name = d.name
    if (name === '.gitignore') hasIgnoreFile = true
    if (tracked !== undefined && tracked.has(name) && !d.isDirectory()) continue
    rest.push(d)
  }
  const own = hasIgnoreFile ? loadIgnoreFile(repo.dir, rel) : null
  const stack = own ? [...parentStack, own] : parentStack
  for (const d of rest) {
    const name = d.name
    if (d.isDirectory()) {
      if (name === '.git') continue
      const path = rel === '' ? name : `${rel}/${name}`
      // untracked files inside an ignored directory are ignored even next to tracked ones,
      // and tracked files are found through the index, so an ignored directory is never walked
      if (isIgnored(stack, path, true)) continue
      // a nested repository is listed by git as one untracked entry, never descended into
      if (!plan.trackedDirs.has(path) && lstatOrNull(join(abs, name, '.git'))) continue
      walkUntracked(repo, path, stack, plan, trustMode, out)
    } else if (d.isFile() || d.isSymbolicLink()) {
      if (name === '.git' && rel === '') continue
      const path = rel === '' ? name : `${rel}/${name}`
      if (isIgnored(stack, path, false)) continue
      const st = lstatSync(join(abs, name))
      out.set(path, { path, mode: statMode(st, trustMode), oid: null, stat: st, entry: null, at: -1 })
    }
  }
}

/**
 * Bytes git would store for a working file, its clean form: a symlink's target, or the file's
 * content after end-of-line conversion (only a file with a CR can change; see convert.ts).
 */
export function readCleanContent(convert: Converter, absPath: string, path: string, st: Stats): Uint8Array {
  const bytes = readWorkContent(absPath, st)
  return st.isSymbolicLink() ? bytes : convert.clean(path, bytes)
}

/** Fills in the oid of a working file (hashing its clean form) and returns those bytes when they had to be read. */
export function hashWorkFile(repo: Repo, f: WorkFile, convert: Converter): { oid: string; bytes: Uint8Array | null } {
  if (f.oid) return { oid: f.oid, bytes: null }
  const bytes = readCleanContent(convert, join(repo.dir, f.path), f.path, f.stat!)
  f.oid = hashObject('blob', bytes)
  return { oid: f.oid, bytes }
}
