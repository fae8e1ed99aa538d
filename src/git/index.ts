/**
 * The git layer's public surface. Pure isomorphic-git + node:fs: no `git` executable, hooks,
 * filters or fsmonitor ever run from here.
 */
import type { FilePatch, HunkSelection, RepoStatus } from './types'

export type { Hunk, FilePatch, HunkSelection, RepoStatus } from './types'

const pending = (name: string): never => {
  throw new Error(`git.${name} is being written; this placeholder only fixes the signature.`)
}

export async function diffWorkingTree(repoDir: string, opts?: { base?: string }): Promise<FilePatch[]> {
  return pending(`diffWorkingTree(${repoDir}, ${opts?.base})`)
}
export async function readStatus(repoDir: string): Promise<RepoStatus> {
  return pending(`readStatus(${repoDir})`)
}
export async function applySelection(
  repoDir: string,
  patches: FilePatch[],
  select?: HunkSelection,
): Promise<{ applied: { file: string; hunks: number[] }[]; files: string[] }> {
  return pending(`applySelection(${repoDir}, ${patches.length}, ${select?.length})`)
}
export async function commitFiles(
  repoDir: string,
  files: string[],
  opts: { message: string; branch?: string },
): Promise<{ commit: string; branch: string }> {
  return pending(`commitFiles(${repoDir}, ${files.length}, ${opts.message})`)
}
export async function createWorkspace(sourceRepo: string, workspaceDir: string): Promise<{ baseline: string }> {
  return pending(`createWorkspace(${sourceRepo}, ${workspaceDir})`)
}
export async function diffWorkspace(workspaceDir: string, baseline: string): Promise<FilePatch[]> {
  return pending(`diffWorkspace(${workspaceDir}, ${baseline})`)
}
export async function isGitRepo(dir: string): Promise<boolean> {
  return pending(`isGitRepo(${dir})`)
}
