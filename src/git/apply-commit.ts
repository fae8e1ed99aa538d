/**
 * Apply and commit as one step, atomic in the repo even when the process is killed in the
 * middle. The commit objects are made from the planned bytes first (objects nobody refers to
 * yet change nothing); then the journal (apply-journal.ts), index.lock, the files (temp file and
 * rename each), the new index (written into index.lock and renamed, as git does), and the ref
 * last. A failure at any step puts back what was written; a crash is finished by the next
 * recoverApply. Objects, refs and the index are written directly: no hook or filter runs.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import * as fs from 'node:fs'
import { BadRequestError, ConflictError } from '../errors'
import { planApply, readCurrent, type AppliedSelection, type Op } from './apply'
import { dropJournal, recoverApply, writeJournal, type Journal, type JournalFile } from './apply-journal'
import { git } from './isogit'
import { cleanMessage, entryFromStat, identity, signature, updateTree, validBranchName } from './commit'
import { readIndex, serializeIndex, type IndexEntry } from './dirc'
import { commitTree, resolveCommit, writeObject, type Repo } from './odb'
import type { FilePatch, HunkSelection } from './types'
import { lstatOrNull } from './worktree'

export type ApplyCommitResult = AppliedSelection & { commit: string; branch: string }

type Target = { branch: string | null; ref: string; parent: string | null; headBefore: string; headAfter: string }

/** Where the commit goes. Switching to an existing branch at another commit is refused before anything is written. */
async function commitTarget(repo: Repo, requested: string | undefined): Promise<Target> {
  const headBefore = readFileSync(join(repo.gitdir, 'HEAD'), 'utf8')
  const current = (await git.currentBranch({ fs, gitdir: repo.gitdir, fullname: false })) ?? null
  const head = await resolveCommit(repo, 'HEAD')
  if (requested === undefined || requested === current) {
    return { branch: current, ref: current ? `refs/heads/${current}` : 'HEAD', parent: head, headBefore, headAfter: headBefore }
  }
  if (!validBranchName(requested)) throw new BadRequestError(`"${requested}" is not a valid branch name.`, 'invalid_branch')
  let tip: string | null
  try {
    tip = await git.resolveRef({ fs, gitdir: repo.gitdir, ref: `refs/heads/${requested}` })
  } catch (err) {
    if ((err as { code?: string }).code !== 'NotFoundError') throw err
    tip = head
  }
  if (tip !== head) {
    // The patches were planned against this branch's files; on another commit they would mean something else.
    throw new ConflictError(
      `Branch ${requested} exists at another commit than ${current ?? 'HEAD'}; apply on ${current ?? 'the current branch'} or name a new branch.`,
      'dirty_worktree',
    )
  }
  return { branch: requested, ref: `refs/heads/${requested}`, parent: head, headBefore, headAfter: `ref: refs/heads/${requested}\n` }
}

async function makeCommit(repo: Repo, ops: Op[], target: Target, message: string): Promise<string> {
  const changes = new Map<string, { oid: string; mode: string } | null>()
  // The blob is the clean form (end-of-line conversion undone), as `git add` would store it.
  for (const op of ops) changes.set(op.file, op.clean ? { oid: writeObject(repo.gitdir, 'blob', op.clean), mode: op.mode ?? '100644' } : null)
  const parentTree = await commitTree(repo, target.parent)
  const tree = (await updateTree(repo, parentTree, changes)) ?? writeObject(repo.gitdir, 'tree', new Uint8Array(0))
  if (tree === parentTree) throw new BadRequestError(`Nothing to commit: ${ops.map((o) => o.file).join(', ')} match the branch already.`, 'nothing_to_commit')
  const sig = signature(await identity(repo), new Date())
  const body = `tree ${tree}\n${target.parent ? `parent ${target.parent}\n` : ''}author ${sig}\ncommitter ${sig}\n\n${cleanMessage(message)}`
  return writeObject(repo.gitdir, 'commit', Buffer.from(body, 'utf8'))
}

function journalFiles(repo: Repo, ops: Op[]): JournalFile[] {
  return ops.map((op) => {
    const st = lstatOrNull(op.abs)
    const original = st && (st.isFile() || st.isSymbolicLink())
      ? { oid: writeObject(repo.gitdir, 'blob', readCurrent(op.abs, st)), mode: st.isSymbolicLink() ? '120000' : st.mode & 0o100 ? '100755' : '100644' }
      : null
    const tmp = op.bytes ? join(dirname(op.abs), `.${basename(op.abs)}.cockpit-${process.pid}-${Math.random().toString(36).slice(2)}`) : null
    return { file: op.file, abs: op.abs, tmp, original }
  })
}

/** Creates a git lock file (`index.lock`, `<ref>.lock`) exclusively, as git does; 409 when another process holds it. */
function takeLock(path: string, what: string): number {
  try {
    return openSync(path, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError(`Another git process holds ${what}; try again when it has finished.`, what === '.git/index.lock' ? 'index_locked' : 'ref_locked')
    }
    throw err
  }
}

function writeFiles(ops: Op[], files: JournalFile[]): void {
  for (const [i, op] of ops.entries()) {
    const tmp = files[i]!.tmp
    if (!op.bytes || !tmp) continue
    mkdirSync(dirname(op.abs), { recursive: true })
    if (op.mode === '120000') symlinkSync(Buffer.from(op.bytes).toString('utf8'), tmp)
    else {
      writeFileSync(tmp, op.bytes, { mode: op.mode === '100755' ? 0o755 : 0o644 })
      chmodSync(tmp, op.mode === '100755' ? 0o755 : 0o644)
    }
  }
  for (const [i, op] of ops.entries()) {
    const tmp = files[i]!.tmp
    if (tmp) renameSync(tmp, op.abs)
    else if (lstatOrNull(op.abs)) unlinkSync(op.abs)
  }
}

function newIndex(repo: Repo, ops: Op[], changes: Map<string, { oid: string; mode: string } | null>): Buffer {
  const entries = new Map<string, IndexEntry[]>()
  if (existsSync(join(repo.gitdir, 'index'))) for (const e of readIndex(repo.gitdir).entries) entries.set(e.path, [...(entries.get(e.path) ?? []), e])
  for (const op of ops) {
    const change = changes.get(op.file)
    if (change) entries.set(op.file, [entryFromStat(op.file, lstatSync(op.abs), change.oid, change.mode)])
    else entries.delete(op.file)
  }
  return serializeIndex([...entries.values()].flat())
}

/** Applies the selected hunks and commits exactly those files: the repo ends with both or neither. */
export async function applyAndCommit(
  repo: Repo,
  patches: FilePatch[],
  select: HunkSelection | undefined,
  opts: { message: string; branch?: string },
): Promise<ApplyCommitResult> {
  if (typeof opts.message !== 'string' || opts.message.trim() === '') throw new BadRequestError('A commit message is required.', 'invalid_message')
  await recoverApply(repo)
  const { ops, applied } = await planApply(repo, patches, select)
  const target = await commitTarget(repo, opts.branch)
  const commit = await makeCommit(repo, ops, target, opts.message)
  const changes = new Map(ops.map((op) => [op.file, op.clean ? { oid: writeObject(repo.gitdir, 'blob', op.clean), mode: op.mode ?? '100644' } : null]))

  const journal: Journal = {
    version: 1,
    pid: process.pid,
    ref: target.ref,
    newCommit: commit,
    headBefore: target.headBefore,
    headAfter: target.headAfter,
    hadIndex: existsSync(join(repo.gitdir, 'index')),
    files: journalFiles(repo, ops),
  }
  writeJournal(repo, journal)
  const indexLock = join(repo.gitdir, 'index.lock')
  const refFile = join(repo.gitdir, target.ref)
  const refLock = `${refFile}.lock`
  const fds: number[] = []
  try {
    fds.push(takeLock(indexLock, '.git/index.lock'))
    mkdirSync(dirname(refFile), { recursive: true })
    fds.push(takeLock(refLock, `${target.ref}.lock`))
  } catch (err) {
    for (const fd of fds) closeSync(fd)
    if (fds.length > 0) unlinkSync(indexLock)
    dropJournal(repo)
    throw err
  }
  const [indexFd, refFd] = fds as [number, number]
  try {
    try {
      writeFiles(ops, journal.files)
      writeSync(indexFd, newIndex(repo, ops, changes))
      fsyncSync(indexFd)
      writeSync(refFd, commit + '\n')
      fsyncSync(refFd)
    } finally {
      closeSync(indexFd)
      closeSync(refFd)
    }
    renameSync(indexLock, join(repo.gitdir, 'index'))
    // The commit point: before this rename the next recoverApply puts everything back, after it keeps it.
    renameSync(refLock, refFile)
    if (target.headAfter !== target.headBefore) writeFileSync(join(repo.gitdir, 'HEAD'), target.headAfter)
  } catch (err) {
    await recoverApply(repo)
    throw err
  }
  dropJournal(repo)
  return { applied, files: ops.map((o) => o.file), commit, branch: target.branch ?? 'HEAD' }
}
