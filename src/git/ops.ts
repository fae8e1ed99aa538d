/**
 * The git layer's bulk operations as they run on whatever thread calls them. index.ts sends them
 * to the git worker (off-thread.ts); the worker (worker.ts) runs them here.
 */
import type { FilePatch, RepoStatus } from './types'
import { baseTree, diffAgainst } from './diff'
import { openRepo } from './odb'
import { repoStatus } from './status'
import { makeWorkspace } from './workspace'

export const gitOps = {
  async diffWorkingTree(repoDir: string, base = 'HEAD'): Promise<FilePatch[]> {
    const repo = openRepo(repoDir)
    const { tree } = await baseTree(repo, base)
    return diffAgainst(repo, tree)
  },
  async readStatus(repoDir: string): Promise<RepoStatus> {
    return repoStatus(openRepo(repoDir))
  },
  async createWorkspace(sourceRepo: string, workspaceDir: string): Promise<{ baseline: string }> {
    return makeWorkspace(openRepo(sourceRepo), workspaceDir)
  },
}

export type GitOps = typeof gitOps
export type GitOpName = keyof GitOps
