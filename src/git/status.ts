/**
 * `git status --porcelain`-style summary: each changed path with git's two-letter XY code
 * (X = HEAD vs index, Y = index vs working tree, "??" untracked).
 */
import { git } from './isogit'
import * as fs from 'node:fs'
import type { RepoStatus } from './types'
import { comparePaths } from './dirc'
import { flatTree } from './diff'
import { commitTree, resolveCommit, type Repo } from './odb'
import { hashWorkFile, readWorkingSet } from './worktree'

export async function repoStatus(repo: Repo): Promise<RepoStatus> {
  const branchRef = await git.currentBranch({ fs, gitdir: repo.gitdir, fullname: false })
  const head = await resolveCommit(repo, 'HEAD')
  const headFiles = await flatTree(repo, await commitTree(repo, head))
  const { index, files, convert } = await readWorkingSet(repo)
  const codes = new Map<string, string>()
  const staged = new Map<string, { oid: string; mode: string }>()
  for (const e of index.entries) {
    if (e.stage !== 0) {
      codes.set(e.path, 'UU')
      continue
    }
    const mode = e.mode.toString(8).padStart(6, '0')
    staged.set(e.path, { oid: e.oid, mode })
  }
  const paths = new Set<string>([...headFiles.keys(), ...staged.keys(), ...files.keys()])
  for (const path of paths) {
    if (codes.has(path)) continue
    const h = headFiles.get(path)
    const s = staged.get(path)
    const w = files.get(path)
    if (!s) {
      if (w) codes.set(path, '??')
      else if (h) codes.set(path, 'D ')
      continue
    }
    const x = !h ? 'A' : h.oid !== s.oid || h.mode !== s.mode ? 'M' : ' '
    let y = ' '
    if (!w) y = 'D'
    else if (s.mode !== '160000' && (w.oid !== s.oid || w.mode !== s.mode)) {
      // git's ie_modified: a size that differs from a non-empty entry's is a change without
      // reading the file, even when its clean form (convert.ts) would match; `git diff` then
      // shows nothing for it, and so does ours (diff.ts reads the file)
      const e = w.entry
      if (e && e.stage === 0 && w.stat && e.size !== 0 && e.size !== w.stat.size % 2 ** 32) {
        codes.set(path, x + 'M')
        continue
      }
      const { oid } = hashWorkFile(repo, w, convert)
      if (oid !== s.oid || w.mode !== s.mode) y = 'M'
    }
    if (x !== ' ' || y !== ' ') codes.set(path, x + y)
  }
  const sorted = [...codes.entries()].sort((a, b) => comparePaths(a[0], b[0]))
  return { branch: branchRef ?? null, head, files: sorted.map(([file, status]) => ({ file, status })) }
}
