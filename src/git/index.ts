/**
 * The git layer's public surface. isomorphic-git is used for refs and config only (resolveRef,
 * currentBranch, getConfig); objects, packs, the index (.git/index) and the working tree are read
 * and written directly by this folder (odb.ts, pack.ts, dirc.ts, worktree.ts), because
 * isomorphic-git's own readers were the slow part: pack.ts and dirc.ts say what was measured.
 * No `git` executable, hooks, filters or fsmonitor ever run from here. Diffs, status and workspaces
 * are made on a git worker (off-thread.ts): on this thread, 3 workspaces and 5 diffs of a 10k-file
 * repo held every session's terminals, sockets and requests for up to 4 s. Each takes an optional
 * signal: aborting it stops waiting (and a workspace copy stops between files).
 */
import type { FilePatch, HunkSelection, RepoStatus } from './types'
import { applyPatches } from './apply'
import { applyAndCommit } from './apply-commit'
import { recoverApply, type Recovery } from './apply-journal'
import { commitPaths } from './commit'
import { restorePatchOrigin } from './diff'
import { openRepo } from './odb'
import { runOffThread } from './off-thread'

export type { Hunk, FilePatch, HunkSelection, RepoStatus } from './types'
export { patchOrigin, restorePatchOrigin, type PatchOrigin } from './diff'
export { holdGitWorkers, stopGitWorkers } from './off-thread'

type Cancel = { signal?: AbortSignal }

/** Working tree (tracked changes + untracked, not-ignored files) vs `base` (default HEAD). */
export async function diffWorkingTree(repoDir: string, opts?: { base?: string } & Cancel): Promise<FilePatch[]> {
  const { patches, origins } = await runOffThread('diffWorkingTree', { repoDir, base: opts?.base ?? 'HEAD' }, opts?.signal)
  patches.forEach((patch, i) => {
    const origin = origins[i]
    if (origin) restorePatchOrigin(patch, origin)
  })
  return patches
}

export async function readStatus(repoDir: string, opts?: Cancel): Promise<RepoStatus> {
  return runOffThread('readStatus', { repoDir }, opts?.signal)
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

/**
 * A new repo at workspaceDir sharing sourceRepo's objects, whose baseline commit holds the user's
 * uncommitted work; `bytes` is the disk it takes, as measureTree would count it.
 */
export async function createWorkspace(sourceRepo: string, workspaceDir: string, opts?: Cancel): Promise<{ baseline: string; bytes: number }> {
  return runOffThread('createWorkspace', { repoDir: sourceRepo, workspaceDir }, opts?.signal)
}

/** Apparent bytes of the files and symlinks under `dir` (symlinks not followed), walked on a git worker. */
export async function measureTree(dir: string, opts?: Cancel): Promise<number> {
  return runOffThread('measureTree', { repoDir: dir }, opts?.signal)
}

/** What changed in a workspace since its baseline commit. */
export async function diffWorkspace(workspaceDir: string, baseline: string, opts?: Cancel): Promise<FilePatch[]> {
  return diffWorkingTree(workspaceDir, { base: baseline, signal: opts?.signal })
}

/** Throws not_a_repo (saying `git init`) unless dir is the top of a git repository this layer can serve. */
export function checkRepository(dir: string): void {
  openRepo(dir)
}
