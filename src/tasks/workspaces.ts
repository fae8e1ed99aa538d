import { mkdir, readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createWorkspace, diffWorkspace, measureTree, type FilePatch } from '../git'
import { isInside, realpathAllowingMissing } from '../policy/paths'

/** Errors of the file system that mean "STATE_DIR cannot be written here". */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST'])

/** A workspace could not be made; the message says why in terms of STATE_DIR. */
export class WorkspaceError extends Error {}

const ID = /^[A-Za-z0-9-]{1,64}$/

/**
 * Task workspaces on disk: `<stateDir>/workspaces/<sessionId>/<taskId>`, each its own git repo at
 * a baseline of the session repo (made by the git layer). Nothing here ever writes the session repo.
 */
export class Workspaces {
  readonly root: string
  /** Last measured size of each workspace, by directory. */
  private readonly sizes = new Map<string, number>()

  constructor(readonly stateDir: string) {
    this.root = join(resolve(stateDir), 'workspaces')
  }

  dirFor(sessionId: string, taskId: string): string {
    // Both ids are server-made UUIDs; refuse anything else rather than build a path from it.
    if (!ID.test(sessionId) || !ID.test(taskId)) throw new Error(`bad workspace id ${sessionId}/${taskId}`)
    return join(this.root, sessionId, taskId)
  }

  sessionDir(sessionId: string): string {
    if (!ID.test(sessionId)) throw new Error(`bad session id ${sessionId}`)
    return join(this.root, sessionId)
  }

  /**
   * Makes the workspace from the session repo and knows its size from then on (the copy counts
   * what it writes); WorkspaceError when STATE_DIR cannot be written.
   */
  async create(sourceRepo: string, dir: string): Promise<{ baseline: string }> {
    // A workspace inside the session repo would show up in it as untracked files before any apply.
    if (isInside(realpathAllowingMissing(sourceRepo), realpathAllowingMissing(dir))) {
      throw new WorkspaceError(`STATE_DIR ${this.stateDir} is inside the session repo ${sourceRepo}; set STATE_DIR to a directory outside it.`)
    }
    try {
      await mkdir(join(dir, '..'), { recursive: true })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      if (NOT_WRITABLE.has(code) || code === 'ENOENT') {
        throw new WorkspaceError(`STATE_DIR ${this.stateDir} is not writable (${code}); set STATE_DIR to a directory this server can write.`)
      }
      throw new WorkspaceError(`Could not create the task workspace under ${this.stateDir}: ${(error as Error).message}`)
    }
    try {
      const { baseline, bytes } = await createWorkspace(sourceRepo, dir)
      this.sizes.set(dir, bytes)
      return { baseline }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOSPC') throw new WorkspaceError(`STATE_DIR ${this.stateDir} is full (ENOSPC); free some space.`)
      if (code !== undefined && NOT_WRITABLE.has(code)) {
        throw new WorkspaceError(`STATE_DIR ${this.stateDir} is not writable (${code}); set STATE_DIR to a directory this server can write.`)
      }
      throw new WorkspaceError(`Could not create the task workspace from ${sourceRepo}: ${(error as Error).message}`)
    }
  }

  /** Removes a workspace (or a session's directory); refuses any path outside the workspaces root. */
  async remove(dir: string): Promise<void> {
    if (dir === this.root || !isInside(this.root, resolve(dir))) throw new Error(`refusing to remove ${dir}: not a task workspace`)
    try {
      await rm(dir, { recursive: true, force: true })
    } catch (error) {
      // A file where a parent directory should be: the workspace cannot exist, so it is gone.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error
    }
    for (const measured of this.sizes.keys()) if (isInside(dir, measured)) this.sizes.delete(measured)
  }

  /**
   * What changed in a workspace since `baseline`, and its size measured for the quota, side by
   * side: after a turn in a 10k-file workspace the walk took 0.3-0.55 s, three to five times the
   * diff, so it runs beside the diff on a git worker instead of after it. Both are waited for;
   * what a failure of either means is the caller's to judge.
   */
  diffAndMeasure(dir: string, baseline: string): Promise<[PromiseSettledResult<FilePatch[]>, PromiseSettledResult<number>]> {
    return Promise.allSettled([diffWorkspace(dir, baseline), this.measure(dir)])
  }

  /**
   * Measures a workspace (apparent file sizes, symlinks not followed; on a git worker) and
   * remembers it. Done when an agent's turn ends and for workspaces kept from before a restart
   * (create() knows a new one's size), so accepting a task only sums known sizes instead of
   * walking every workspace on each request.
   */
  async measure(dir: string): Promise<number> {
    const bytes = await measureTree(dir)
    this.sizes.set(dir, bytes)
    return bytes
  }

  knownSize(dir: string): number {
    return this.sizes.get(dir) ?? 0
  }

  /** Bytes all workspaces used when last measured. */
  knownUsage(): number {
    let total = 0
    for (const bytes of this.sizes.values()) total += bytes
    return total
  }

  /**
   * Removes session directories no live task refers to: leftovers of a previous server process
   * (sessions do not outlive it) that would otherwise fill STATE_DIR for ever.
   */
  async removeOrphans(isKnownSession: (sessionId: string) => boolean): Promise<void> {
    let entries: string[]
    try {
      entries = await readdir(this.root)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return
      throw error
    }
    for (const entry of entries) if (ID.test(entry) && !isKnownSession(entry)) await this.remove(join(this.root, entry))
  }
}
