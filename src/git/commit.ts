/**
 * Commits exactly the named paths, like `git commit --only -- <paths>`: the new tree is the
 * branch tip's tree with just those paths replaced by their working-tree content (or removed),
 * other dirty files stay dirty and unstaged, and the index is updated for those paths only.
 * Objects, refs and the index are written directly, so no hook, filter or fsmonitor can run;
 * blobs are the files' clean form (end-of-line conversion, convert.ts) as `git add` stores them.
 */
import { lstatSync, mkdirSync, openSync, closeSync, renameSync, unlinkSync, writeSync, writeFileSync, symlinkSync, chmodSync, type Stats } from 'node:fs'
import * as fs from 'node:fs'
import { dirname, join } from 'node:path'
import { git } from './isogit'
import { BadRequestError, ConflictError } from '../errors'
import { resolveRepoFile } from '../policy/paths'
import { comparePaths, readIndex, writeIndex, type GitIndex, type IndexEntry } from './dirc'
import { commitTree, readBlob, readTree, resolveCommit, writeObject, type Repo, type TreeEntry } from './odb'
import { repoStatus } from './status'
import { converterFor } from './convert'
import { fileModeTrusted, lstatOrNull, readCleanContent, statMode } from './worktree'

export const DEFAULT_AUTHOR = { name: 'Cockpit Coder', email: 'cockpit@localhost' }

type Change = { oid: string; mode: string } | null

/** Tree entry order: byte order of names, a directory compared as if its name ended in "/". */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const ka = Buffer.from(a.mode === '040000' ? a.name + '/' : a.name)
  const kb = Buffer.from(b.mode === '040000' ? b.name + '/' : b.name)
  return Buffer.compare(ka, kb)
}

function serializeTree(entries: TreeEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of [...entries].sort(treeOrder)) {
    parts.push(Buffer.from(`${e.mode.replace(/^0/, '')} ${e.name}\0`), Buffer.from(e.oid, 'hex'))
  }
  return Buffer.concat(parts)
}

/** Rewrites only the trees on the paths of `changes`; returns the new tree oid, or null when it ends up empty. */
export async function updateTree(repo: Repo, treeOid: string | null, changes: Map<string, Change>): Promise<string | null> {
  const entries = new Map<string, TreeEntry>()
  if (treeOid) for (const e of await readTree(repo, treeOid)) entries.set(e.name, e)
  const sub = new Map<string, Map<string, Change>>()
  for (const [path, change] of changes) {
    const slash = path.indexOf('/')
    if (slash < 0) {
      if (change) entries.set(path, { name: path, mode: change.mode, oid: change.oid })
      else entries.delete(path)
      continue
    }
    const dir = path.slice(0, slash)
    if (!sub.has(dir)) sub.set(dir, new Map())
    sub.get(dir)!.set(path.slice(slash + 1), change)
  }
  for (const [dir, subChanges] of sub) {
    const existing = entries.get(dir)
    const oid = await updateTree(repo, existing?.mode === '040000' ? existing.oid : null, subChanges)
    if (oid) entries.set(dir, { name: dir, mode: '040000', oid })
    else entries.delete(dir)
  }
  if (entries.size === 0) return null
  return writeObject(repo.gitdir, 'tree', serializeTree([...entries.values()]))
}

export async function identity(repo: Repo): Promise<{ name: string; email: string }> {
  const name = await git.getConfig({ fs, gitdir: repo.gitdir, path: 'user.name' })
  const email = await git.getConfig({ fs, gitdir: repo.gitdir, path: 'user.email' })
  if (typeof name === 'string' && name.trim() && typeof email === 'string' && email.trim()) return { name: name.trim(), email: email.trim() }
  return DEFAULT_AUTHOR
}

export function signature(who: { name: string; email: string }, when: Date): string {
  const offset = -when.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`
  return `${who.name} <${who.email}> ${Math.floor(when.getTime() / 1000)} ${tz}`
}

/** git's default message clean-up: trailing whitespace and surrounding blank lines go, one final newline. */
export function cleanMessage(message: string): string {
  const lines = message.replace(/\r\n/g, '\n').split('\n').map((l) => l.replace(/\s+$/, ''))
  while (lines.length && lines[0] === '') lines.shift()
  while (lines.length && lines[lines.length - 1] === '') lines.pop()
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n'
}

/** git check-ref-format rules for a branch name. */
export function validBranchName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 200 &&
    !/[\x00-\x20\x7f~^:?*[\\]/.test(name) &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.includes('//') &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    name !== '@' &&
    !name.split('/').some((c) => c.startsWith('.') || c.endsWith('.lock'))
  )
}

/** Updates a ref file under `<ref>.lock`, like git's lockfile protocol. */
function writeRefFile(gitdir: string, ref: string, value: string): void {
  const file = join(gitdir, ref)
  mkdirSync(dirname(file), { recursive: true })
  const lock = `${file}.lock`
  let fd: number
  try {
    fd = openSync(lock, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${ref} is locked by another git process; try again.`, 'ref_locked')
    throw err
  }
  try {
    writeSync(fd, value + '\n')
    closeSync(fd)
    renameSync(lock, file)
  } catch (err) {
    unlinkSync(lock)
    throw err
  }
}

const ZERO_STAT = { ctimeMs: 0, mtimeMs: 0, dev: 0, ino: 0, uid: 0, gid: 0, size: 0 } as Stats

export function entryFromStat(path: string, st: Stats, oid: string, mode: string): IndexEntry {
  const sec = (ms: number) => Math.floor(ms / 1000)
  const nsec = (ms: number) => Math.round((ms - sec(ms) * 1000) * 1e6) % 1e9
  return {
    path,
    ctimeSec: sec(st.ctimeMs),
    ctimeNsec: nsec(st.ctimeMs),
    mtimeSec: sec(st.mtimeMs),
    mtimeNsec: nsec(st.mtimeMs),
    dev: st.dev % 2 ** 32,
    ino: st.ino % 2 ** 32,
    mode: parseInt(mode, 8),
    uid: st.uid % 2 ** 32,
    gid: st.gid % 2 ** 32,
    size: st.size % 2 ** 32,
    oid,
    stage: 0,
    assumeValid: false,
    skipWorktree: false,
    intentToAdd: false,
  }
}

/** Moves HEAD to `branch` at `tip`, checking out the files that differ when tip is another commit. */
async function switchBranch(repo: Repo, branch: string, headCommit: string | null, tip: string | null): Promise<void> {
  if (tip !== headCommit) {
    const status = await repoStatus(repo)
    if (status.files.length > 0) {
      throw new ConflictError(
        `Switching to branch ${branch} needs a clean working tree; ${status.files.length} path(s) have changes. Commit on the current branch or clean up first.`,
        'dirty_worktree',
      )
    }
    await checkoutTree(repo, await commitTree(repo, headCommit), await commitTree(repo, tip))
  }
  writeFileSync(join(repo.gitdir, 'HEAD'), `ref: refs/heads/${branch}\n`)
}

async function checkoutTree(repo: Repo, fromTree: string | null, toTree: string | null): Promise<void> {
  const { flatTree } = await import('./diff')
  const from = await flatTree(repo, fromTree)
  const to = await flatTree(repo, toTree)
  const index = new Map(readIndex(repo.gitdir).entries.map((e) => [e.path, e]))
  for (const [path, e] of from) {
    if (!to.has(path) && e.mode !== '160000') {
      const abs = join(repo.dir, path)
      if (lstatOrNull(abs)) unlinkSync(abs)
      index.delete(path)
    }
  }
  const changed = [...to].filter(([path, e]) => {
    const old = from.get(path)
    return e.mode !== '160000' && !(old && old.oid === e.oid && old.mode === e.mode)
  })
  // the new .gitattributes files go in first (as they are), so that every file, those included,
  // is smudged by the attributes it is checked out with
  const isAttrFile = (path: string) => path === '.gitattributes' || path.endsWith('/.gitattributes')
  const write = (path: string, mode: string, bytes: Uint8Array) => {
    resolveRepoFile(repo.dir, path)
    const abs = join(repo.dir, path)
    mkdirSync(dirname(abs), { recursive: true })
    if (lstatOrNull(abs)) unlinkSync(abs)
    if (mode === '120000') symlinkSync(Buffer.from(bytes).toString('utf8'), abs)
    else {
      writeFileSync(abs, bytes)
      chmodSync(abs, mode === '100755' ? 0o755 : 0o644)
    }
    return abs
  }
  for (const [path, e] of changed) if (isAttrFile(path) && e.mode !== '120000') write(path, e.mode, await readBlob(repo, e.oid))
  // attributes missing from the working tree are read from the index: the one being checked out
  const attrIndex: GitIndex = {
    version: 2,
    cacheTree: new Map(),
    mtimeSec: 0,
    mtimeNsec: 0,
    entries: [...to]
      .filter(([path, e]) => isAttrFile(path) && e.mode !== '160000')
      .map(([path, e]) => entryFromStat(path, ZERO_STAT, e.oid, e.mode))
      .sort((a, b) => comparePaths(a.path, b.path)),
  }
  const convert = changed.length > 0 ? await converterFor(repo, attrIndex) : null
  for (const [path, e] of changed) {
    const bytes = await readBlob(repo, e.oid)
    const abs = write(path, e.mode, e.mode === '120000' ? bytes : convert!.smudge(path, bytes))
    index.set(path, entryFromStat(path, lstatSync(abs), e.oid, e.mode))
  }
  writeIndex(repo.gitdir, [...index.values()])
}

export async function commitPaths(repo: Repo, files: string[], opts: { message: string; branch?: string }): Promise<{ commit: string; branch: string }> {
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'string')) {
    throw new BadRequestError('files must be a non-empty list of paths.', 'invalid_files')
  }
  if (typeof opts?.message !== 'string' || opts.message.trim() === '') throw new BadRequestError('A commit message is required.', 'invalid_message')
  for (const f of files) resolveRepoFile(repo.dir, f)
  const current = (await git.currentBranch({ fs, gitdir: repo.gitdir, fullname: false })) ?? null
  const headCommit = await resolveCommit(repo, 'HEAD')
  let branch = current
  let parent = headCommit
  if (opts.branch !== undefined && opts.branch !== current) {
    if (!validBranchName(opts.branch)) throw new BadRequestError(`"${opts.branch}" is not a valid branch name.`, 'invalid_branch')
    let tip: string | null
    try {
      tip = await git.resolveRef({ fs, gitdir: repo.gitdir, ref: `refs/heads/${opts.branch}` })
    } catch (err) {
      if ((err as { code?: string }).code !== 'NotFoundError') throw err
      tip = headCommit
    }
    await switchBranch(repo, opts.branch, headCommit, tip)
    branch = opts.branch
    parent = tip
  }
  const parentTree = await commitTree(repo, parent)

  const trustMode = await fileModeTrusted(repo)
  const index = readIndex(repo.gitdir)
  const convert = await converterFor(repo, index)
  const entries = new Map<string, IndexEntry[]>()
  for (const e of index.entries) entries.set(e.path, [...(entries.get(e.path) ?? []), e])
  const changes = new Map<string, Change>()
  const newEntries = new Map<string, IndexEntry | null>()
  for (const file of new Set(files)) {
    const abs = join(repo.dir, file)
    const st = lstatOrNull(abs)
    if (!st || !(st.isFile() || st.isSymbolicLink())) {
      changes.set(file, null)
      newEntries.set(file, null)
      continue
    }
    const mode = statMode(st, trustMode, entries.get(file)?.[0]?.mode)
    const oid = writeObject(repo.gitdir, 'blob', readCleanContent(convert, abs, file, st))
    changes.set(file, { oid, mode })
    newEntries.set(file, entryFromStat(file, st, oid, mode))
  }
  const tree = (await updateTree(repo, parentTree, changes)) ?? writeObject(repo.gitdir, 'tree', new Uint8Array(0))
  if (tree === parentTree) throw new BadRequestError(`Nothing to commit: ${files.join(', ')} match the branch already.`, 'nothing_to_commit')

  const who = await identity(repo)
  const sig = signature(who, new Date())
  const body = `tree ${tree}\n${parent ? `parent ${parent}\n` : ''}author ${sig}\ncommitter ${sig}\n\n${cleanMessage(opts.message)}`
  const commit = writeObject(repo.gitdir, 'commit', Buffer.from(body, 'utf8'))
  if (branch) writeRefFile(repo.gitdir, `refs/heads/${branch}`, commit)
  else writeRefFile(repo.gitdir, 'HEAD', commit)

  for (const [path, e] of newEntries) {
    if (e) entries.set(path, [e])
    else entries.delete(path)
  }
  writeIndex(repo.gitdir, [...entries.values()].flat())
  return { commit, branch: branch ?? 'HEAD' }
}
