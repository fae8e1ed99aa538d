/**
 * The git layer's bulk operations as they run on whatever thread calls them. index.ts sends them
 * to the git worker (off-thread.ts); the worker (worker.ts) runs them here. Each takes one input
 * object (its first field names the repository, which picks the worker) and a signal the worker
 * aborts when the caller cancels.
 */
import type { FilePatch, RepoStatus } from './types'
import { baseTree, diffAgainst, patchOrigin, type PatchOrigin } from './diff'
import { openRepo } from './odb'
import { repoStatus } from './status'
import { makeWorkspace } from './workspace'
import { treeBytes } from './measure'

/** Patches and where each one's content can be read back (the WeakMap in diff.ts does not cross threads). */
export type DiffResult = { patches: FilePatch[]; origins: (PatchOrigin | null)[] }

export const gitOps = {
  async diffWorkingTree(input: { repoDir: string; base: string }, _signal?: AbortSignal): Promise<DiffResult> {
    const repo = openRepo(input.repoDir)
    const { tree } = await baseTree(repo, input.base)
    const patches = await diffAgainst(repo, tree)
    return { patches, origins: patches.map((p) => patchOrigin(p) ?? null) }
  },
  async readStatus(input: { repoDir: string }, _signal?: AbortSignal): Promise<RepoStatus> {
    return repoStatus(openRepo(input.repoDir))
  },
  async createWorkspace(input: { repoDir: string; workspaceDir: string }, signal?: AbortSignal): Promise<{ baseline: string; bytes: number }> {
    return makeWorkspace(openRepo(input.repoDir), input.workspaceDir, signal)
  },
  /** `repoDir` is any directory here (it only picks the worker). */
  async measureTree(input: { repoDir: string }, _signal?: AbortSignal): Promise<number> {
    return treeBytes(input.repoDir)
  },
}

export type GitOps = typeof gitOps
export type GitOpName = keyof GitOps
export type GitOpInput<K extends GitOpName> = Parameters<GitOps[K]>[0]
