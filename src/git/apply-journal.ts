/**
 * The journal that makes apply-and-commit atomic across a crash. Before the first byte of the
 * working tree, the index or a ref changes, `.git/cockpit-apply/journal.json` names every file
 * the apply will touch (with a blob of what was there before, or that nothing was), the temp
 * files it will write, the index as it was, and the commit it is about to make. The ref is
 * updated last: it is the commit point. Whoever opens the repo next (this process when a step
 * fails, the next server process after a SIGKILL) finishes the job: the ref points at the new
 * commit → keep the files, drop leftovers; it does not → put every file and the index back.
 * Either way the repo has the commit and its files, or neither.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { readBlob, type Repo } from './odb'
import { lstatOrNull } from './worktree'

export type JournalFile = {
  file: string
  abs: string
  /** The temp file the new content is written to before its rename; null for a deletion. */
  tmp: string | null
  /** What the path held before (a blob written for the purpose), or null when it did not exist. */
  original: { oid: string; mode: string } | null
}

export type Journal = {
  version: 1
  pid: number
  /** The ref the commit goes to: `refs/heads/<branch>`, or `HEAD` when detached. */
  ref: string
  newCommit: string
  /** .git/HEAD before and after (a new branch moves HEAD after the ref). */
  headBefore: string
  headAfter: string
  /** Whether .git/index existed (its copy is `index` in the journal directory). */
  hadIndex: boolean
  files: JournalFile[]
}

export type Recovery = 'none' | 'rolled-forward' | 'rolled-back'

export const journalDir = (gitdir: string) => join(gitdir, 'cockpit-apply')

function writeDurably(file: string, content: string): void {
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, 'w', 0o644)
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

/** Writes the journal (and the copy of the index) before anything in the repo changes. */
export function writeJournal(repo: Repo, journal: Journal): void {
  const dir = journalDir(repo.gitdir)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  if (journal.hadIndex) copyFileSync(join(repo.gitdir, 'index'), join(dir, 'index'))
  writeDurably(join(dir, 'journal.json'), JSON.stringify(journal))
}

/** The apply committed and cleaned up: the journal goes. */
export function dropJournal(repo: Repo): void {
  rmSync(journalDir(repo.gitdir), { recursive: true, force: true })
}

function readJournal(repo: Repo): Journal | null {
  const dir = journalDir(repo.gitdir)
  if (!existsSync(dir)) return null
  try {
    const journal = JSON.parse(readFileSync(join(dir, 'journal.json'), 'utf8')) as Journal
    if (journal.version === 1 && Array.isArray(journal.files)) return journal
  } catch {
    // Not written to the end: the process died before it wrote anything else.
  }
  dropJournal(repo)
  return null
}

function looseRef(gitdir: string, ref: string): string | null {
  try {
    return readFileSync(join(gitdir, ref), 'utf8').trim()
  } catch {
    return null
  }
}

function removeIfPresent(path: string): void {
  if (lstatOrNull(path)) unlinkSync(path)
}

async function restoreOriginal(repo: Repo, f: JournalFile): Promise<void> {
  if (f.original === null) {
    const st = lstatOrNull(f.abs)
    if (st && !st.isDirectory()) unlinkSync(f.abs)
    return
  }
  const bytes = await readBlob(repo, f.original.oid)
  mkdirSync(dirname(f.abs), { recursive: true })
  const tmp = `${f.abs}.cockpit-restore`
  removeIfPresent(tmp)
  if (f.original.mode === '120000') symlinkSync(Buffer.from(bytes).toString('utf8'), tmp)
  else writeFileSync(tmp, bytes, { mode: f.original.mode === '100755' ? 0o755 : 0o644 })
  const st = lstatOrNull(f.abs)
  if (st?.isDirectory()) rmSync(f.abs, { recursive: true, force: true })
  renameSync(tmp, f.abs)
}

/**
 * Finishes an apply that did not finish (see the file comment). Safe to call on any repo at any
 * time; 'none' when there was nothing to do.
 */
export async function recoverApply(repo: Repo): Promise<Recovery> {
  const journal = readJournal(repo)
  if (!journal) return 'none'
  const dir = journalDir(repo.gitdir)
  const committed = looseRef(repo.gitdir, journal.ref) === journal.newCommit
  for (const f of journal.files) if (f.tmp) removeIfPresent(f.tmp)
  if (committed) {
    // Files and index were in place before the ref moved; only HEAD may lag (a new branch).
    writeDurably(join(repo.gitdir, 'HEAD'), journal.headAfter)
  } else {
    for (const f of [...journal.files].reverse()) await restoreOriginal(repo, f)
    if (journal.hadIndex) renameSync(join(dir, 'index'), join(repo.gitdir, 'index'))
    else removeIfPresent(join(repo.gitdir, 'index'))
    writeDurably(join(repo.gitdir, 'HEAD'), journal.headBefore)
  }
  // The locks this apply held (it wrote the journal before taking them).
  removeIfPresent(join(repo.gitdir, 'index.lock'))
  removeIfPresent(join(repo.gitdir, `${journal.ref}.lock`))
  dropJournal(repo)
  return committed ? 'rolled-forward' : 'rolled-back'
}
