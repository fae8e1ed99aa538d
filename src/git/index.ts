/**
 * The git layer's public surface. isomorphic-git is used for refs and config only (resolveRef,
 * currentBranch, getConfig); objects, packs, the index (.git/index) and the working tree are read
 * and written directly by this folder (odb.ts, pack.ts, dirc.ts, worktree.ts), because
 * isomorphic-git's own readers were the slow part: pack.ts and dirc.ts say what was measured.
 * No `git` executable, hooks, filters or fsmonitor ever run from here. A workspace is made on the
 * git worker (off-thread.ts): copying 10 000 files on this thread held every session's terminals,
 * sockets and requests for up to 1.7 s. Diffs stay on this thread for now (see off-thread.ts).
 */
import type { FilePatch, HunkSelection, RepoStatus } from './types'
import { applyPatches } from './apply'
import { applyAndCommit } from './apply-commit'
import { recoverApply, type Recovery } from './apply-journal'
import { commitPaths } from './commit'
import { baseTree, diffAgainst } from './diff'
import { openRepo } from './odb'
import { repoStatus } from './status'
import { runOffThread } from './off-thread'

export type { Hunk, FilePatch, HunkSelection, RepoStatus } from './types'
export { patchOrigin, restorePatchOrigin, type PatchOrigin } from './diff'

/** Working tree (tracked changes + untracked, not-ignored files) vs `base` (default HEAD). */
export async function diffWorkingTree(repoDir: string, opts?: { base?: string }): Promise<FilePatch[]> {
  const repo = openRepo(repoDir)
  const { tree } = await baseTree(repo, opts?.base ?? 'HEAD')
  return diffAgainst(repo, tree)
}

export async function readStatus(repoDir: string): Promise<RepoStatus> {
  return repoStatus(openRepo(repoDir))
}

/** Applies the selected hunks of `patches` to repoDir's working tree, all or nothing. */
export async function applySelection(
  repoDir: string,
  patches: FilePatch[],
  select?: HunkSelection,
): Promise<{ applied: { file: string; hunks: number[] }[]; files: string[] }> {
  return applyPatches(openRepo(repoDir), patches, select)
}

/**
 * Applies the selected hunks and commits exactly those files, atomically: the repo ends with the
 * commit and its files or with neither, also when the process is killed in the middle.
 */
export async function applyAndCommitSelection(
  repoDir: string,
  patches: FilePatch[],
  select: HunkSelection | undefined,
  opts: { message: string; branch?: string },
): Promise<{ applied: { file: string; hunks: number[] }[]; files: string[]; commit: string; branch: string }> {
  return applyAndCommit(openRepo(repoDir), patches, select, opts)
}

/** Finishes an apply a killed process left half done (forward when its commit landed, else back). */
export async function recoverInterruptedApply(repoDir: string): Promise<Recovery> {
  return recoverApply(openRepo(repoDir))
}

/** Commits exactly `files` (as they are in the working tree) on the current or a named branch. */
export async function commitFiles(
  repoDir: string,
  files: string[],
  opts: { message: string; branch?: string },
): Promise<{ commit: string; branch: string }> {
  return commitPaths(openRepo(repoDir), files, opts)
}

/** A new repo at workspaceDir sharing sourceRepo's objects, whose baseline commit holds the user's uncommitted work. */
export async function createWorkspace(sourceRepo: string, workspaceDir: string): Promise<{ baseline: string }> {
  return runOffThread('createWorkspace', sourceRepo, workspaceDir)
}

/** What changed in a workspace since its baseline commit. */
export async function diffWorkspace(workspaceDir: string, baseline: string): Promise<FilePatch[]> {
  return diffWorkingTree(workspaceDir, { base: baseline })
}

/** Throws not_a_repo (saying `git init`) unless dir is the top of a git repository this layer can serve. */
export function checkRepository(dir: string): void {
  openRepo(dir)
}
