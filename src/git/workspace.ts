/**
 * Task workspaces: a fresh repository that shares the source's objects through
 * objects/info/alternates (like `git clone --shared`), holds a copy of the source's working files
 * (tracked and untracked-not-ignored; ignored files such as node_modules are left behind) and
 * whose baseline commit is the source HEAD plus the user's uncommitted changes. Nothing is ever
 * written into the source repository, not even its index.
 */
import { constants, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync, type Stats } from 'node:fs'
import { chmod, copyFile, lstat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { git } from './isogit'
import * as fs from 'node:fs'
import { ConflictError } from '../errors'
import { writeIndex, type IndexEntry } from './dirc'
import { flatTree } from './diff'
import { commitTree, resolveCommit, writeObject, type Repo } from './odb'
import { DEFAULT_AUTHOR, entryFromStat, updateTree } from './commit'
import { lstatOrNull, readWorkContent, readWorkingSet } from './worktree'
import { treeBytes } from './measure'
import { markTopDirectory } from './topdir'
import type { CoreConfig } from './coreconfig'

/** The source's end-of-line settings and info/attributes, so the workspace cleans files exactly as the source does. */
type Carried = { core: CoreConfig; infoAttributes: Buffer | null }

async function initRepo(dir: string, sourceGitdirs: string[], branch: string, carried: Carried): Promise<Repo> {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ConflictError(`workspace directory ${dir} already exists and is not empty.`, 'workspace_exists')
  }
  mkdirSync(dir, { recursive: true })
  // before anything is made in it: see topdir.ts (creating the files was most of a workspace's time)
  await markTopDirectory(dir)
  const gitdir = join(dir, '.git')
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) mkdirSync(join(gitdir, sub), { recursive: true })
  writeFileSync(join(gitdir, 'HEAD'), `ref: refs/heads/${branch}\n`)
  const { autocrlf, eol } = carried.core
  const eolLines = `${autocrlf !== false ? `\tautocrlf = ${autocrlf}\n` : ''}${eol !== 'native' ? `\teol = ${eol}\n` : ''}`
  writeFileSync(join(gitdir, 'config'), `[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n${eolLines}`)
  if (carried.infoAttributes) writeFileSync(join(gitdir, 'info', 'attributes'), carried.infoAttributes)
  writeFileSync(join(gitdir, 'objects', 'info', 'alternates'), sourceGitdirs.map((g) => join(g, 'objects')).join('\n') + '\n')
  return { dir: fs.realpathSync(dir), gitdir, objectGitdirs: [gitdir, ...sourceGitdirs] }
}

async function identityLine(src: Repo): Promise<string> {
  const name = await git.getConfig({ fs, gitdir: src.gitdir, path: 'user.name' })
  const email = await git.getConfig({ fs, gitdir: src.gitdir, path: 'user.email' })
  const who = typeof name === 'string' && typeof email === 'string' && name && email ? { name, email } : DEFAULT_AUTHOR
  return `${who.name} <${who.email}> ${Math.floor(Date.now() / 1000)} +0000`
}

type Copy = { from: string; dest: string; path: string; oid: string; mode: string; fix: number | null; at: number }

/**
 * Copies the files in parallel on the thread pool: a reflink (FICLONE) where the file system
 * offers one, else the kernel's in-place copy; each copy's own lstat gives its index entry, so
 * nothing is read back. One file at a time on this thread was the slowest part of a workspace.
 *
 * Each lane takes a whole directory at a time. Creating a file holds its directory's lock for the
 * whole inode allocation, which on ext4 without a journal scans past every inode freed in the last
 * seconds (after a `rm -r` or `git worktree remove`, hundreds of µs a file): lanes in one directory
 * spun on that lock (a quarter of the copy's CPU in `perf`, rwsem_spin_on_owner) instead of
 * creating files side by side in two directories on the pool's two threads.
 */
const DIR_CHUNK = 256

async function copyAll(copies: Copy[], done: (copy: Copy, st: Stats) => void, signal?: AbortSignal, parallel = 16): Promise<void> {
  const byDir = new Map<string, Copy[]>()
  for (const copy of copies) {
    const dir = dirname(copy.dest)
    const group = byDir.get(dir)
    if (group) group.push(copy)
    else byDir.set(dir, [copy])
  }
  // A very big directory still goes in parts, so one flat folder of thousands of files is not
  // copied one file at a time.
  const groups: Copy[][] = []
  for (const group of byDir.values()) for (let at = 0; at < group.length; at += DIR_CHUNK) groups.push(group.slice(at, at + DIR_CHUNK))
  let next = 0
  const lane = async () => {
    while (next < groups.length) {
      for (const copy of groups[next++]!) {
        signal?.throwIfAborted()
        await copyFile(copy.from, copy.dest, constants.COPYFILE_FICLONE)
        if (copy.fix !== null) await chmod(copy.dest, copy.fix)
        done(copy, await lstat(copy.dest))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, groups.length) }, lane))
}

/**
 * Makes the workspace; an aborted signal stops the copy between files (the half-made directory is
 * the caller's to remove). `bytes` is what it takes on disk (treeBytes' measure), summed from the
 * lstat each file's index entry needs anyway, so the quota needs no walk of what was just written.
 */
export async function makeWorkspace(src: Repo, workspaceDir: string, signal?: AbortSignal): Promise<{ baseline: string; bytes: number }> {
  const branch = (await git.currentBranch({ fs, gitdir: src.gitdir, fullname: false })) ?? 'workspace'
  const head = await resolveCommit(src, 'HEAD')
  const headFiles = await flatTree(src, await commitTree(src, head))
  const { files, convert } = await readWorkingSet(src)
  const info = lstatOrNull(join(src.gitdir, 'info', 'attributes'))
  const infoAttributes = info?.isFile() ? readFileSync(join(src.gitdir, 'info', 'attributes')) : null
  const ws = await initRepo(resolve(workspaceDir), src.objectGitdirs, branch, { core: convert.core, infoAttributes })

  const changes = new Map<string, { oid: string; mode: string } | null>()
  const entries: IndexEntry[] = []
  const copies: Copy[] = []
  const madeDirs = new Set<string>()
  let bytes = 0
  for (const f of files.values()) {
    const dest = join(ws.dir, f.path)
    const parent = dirname(dest)
    if (!madeDirs.has(parent)) {
      mkdirSync(parent, { recursive: true })
      madeDirs.add(parent)
    }
    if (f.mode === '160000') {
      // a submodule stays unpopulated, as after a plain clone
      mkdirSync(dest, { recursive: true })
      entries.push({ ...entryFromStat(f.path, lstatSync(dest), f.oid!, f.mode), size: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0 })
      continue
    }
    const from = join(src.dir, f.path)
    let oid = f.oid
    if (!f.stat) {
      // skip-worktree: no working file; the index blob is the content
      entries.push({ ...f.entry!, skipWorktree: true })
      continue
    }
    const h = headFiles.get(f.path)
    const fix = f.mode === '100755' ? 0o755 : f.mode === '100644' && f.stat.mode & 0o111 ? 0o644 : null
    if (oid && f.mode !== '120000') {
      // The bulk of a workspace: copied below, in parallel, its index entry filled in afterwards.
      if (!h || h.oid !== oid || h.mode !== f.mode) changes.set(f.path, { oid, mode: f.mode })
      copies.push({ from, dest, path: f.path, oid, mode: f.mode, fix, at: entries.length })
      entries.push(f.entry!) // replaced once the copy is made
      continue
    }
    if (oid) symlinkSync(readlinkSync(from), dest)
    else {
      // the working file is copied as it is; the baseline holds its clean form, as `git add` would
      const bytes = readWorkContent(from, f.stat)
      oid = writeObject(ws.gitdir, 'blob', f.mode === '120000' ? bytes : convert.clean(f.path, bytes))
      if (f.mode === '120000') symlinkSync(Buffer.from(bytes).toString('utf8'), dest)
      else writeFileSync(dest, bytes)
    }
    if (fix !== null) fs.chmodSync(dest, fix)
    if (!h || h.oid !== oid || h.mode !== f.mode) changes.set(f.path, { oid, mode: f.mode })
    const st = lstatSync(dest)
    bytes += st.size
    entries.push(entryFromStat(f.path, st, oid, f.mode))
  }
  await copyAll(
    copies,
    (copy, st) => {
      bytes += st.size
      entries[copy.at] = entryFromStat(copy.path, st, copy.oid, copy.mode)
    },
    signal,
  )
  for (const path of headFiles.keys()) if (!files.has(path)) changes.set(path, null)

  let baseline = head
  if (!head || changes.size > 0) {
    const tree = (await updateTree(ws, await commitTree(src, head), changes)) ?? writeObject(ws.gitdir, 'tree', new Uint8Array(0))
    const who = await identityLine(src)
    const message = head ? `Cockpit baseline: ${head.slice(0, 12)} plus uncommitted changes\n` : 'Cockpit baseline: working tree of a repository without commits\n'
    baseline = writeObject(ws.gitdir, 'commit', Buffer.from(`tree ${tree}\n${head ? `parent ${head}\n` : ''}author ${who}\ncommitter ${who}\n\n${message}`, 'utf8'))
  }
  const ref = join(ws.gitdir, 'refs', 'heads', branch)
  mkdirSync(dirname(ref), { recursive: true })
  writeFileSync(ref, baseline + '\n')
  writeIndex(ws.gitdir, entries)
  return { baseline: baseline!, bytes: bytes + treeBytes(ws.gitdir) }
}
