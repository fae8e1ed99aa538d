import { InsufficientStorageError } from '../errors'
import { FINISHED_STATUSES, type TaskStore } from './types'
import type { Workspaces } from './workspaces'

export type WorkspaceKeeperOptions = {
  store: TaskStore
  workspaces: Workspaces
  /** Disk all workspaces may use together (WORKSPACE_MAX_BYTES). */
  maxBytes: number
  /** A finished task's workspace goes this many days after the task ended (WORKSPACE_RETENTION_DAYS). */
  retentionDays: number
  /** A task being applied keeps its workspace whatever the rules say. */
  isApplying: (taskId: string) => boolean
}

/**
 * Which task workspaces stay on disk and which go: removed with its record kept (apply, cancel,
 * quota eviction, retention), measured for the quota (also those kept from before a restart).
 * A restart alone never removes one.
 */
export class WorkspaceKeeper {
  constructor(private readonly options: WorkspaceKeeperOptions) {}

  /** Removes a task's workspace and records that it is gone; a no-op when it has none. */
  async remove(taskId: string): Promise<void> {
    const { store, workspaces } = this.options
    const task = store.get(taskId)
    if (!task?.workspaceDir) return
    await workspaces.remove(task.workspaceDir)
    // The task may have gone meanwhile (its session ended, DELETE): nothing left to record.
    if (store.get(taskId)) store.update(taskId, { workspaceDir: null })
  }

  /** Measures the workspaces kept from before this process, so the disk quota counts them. */
  async measureKept(): Promise<void> {
    const { store, workspaces } = this.options
    for (const task of store.listAll()) {
      if (task.workspaceDir !== null && workspaces.knownSize(task.workspaceDir) === 0) await workspaces.measure(task.workspaceDir)
    }
  }

  /**
   * Removes the workspaces of tasks that ended more than WORKSPACE_RETENTION_DAYS before `now`
   * (their records and saved patches stay). Returns how many went.
   */
  async sweepRetention(now = new Date()): Promise<number> {
    const keepMs = this.options.retentionDays * 86_400_000
    let removed = 0
    for (const task of this.options.store.listAll()) {
      if (task.workspaceDir === null || task.endedAt === null || !FINISHED_STATUSES.has(task.status) || this.options.isApplying(task.id)) continue
      if (Date.parse(task.endedAt) + keepMs > now.getTime()) continue
      await this.remove(task.id)
      removed++
    }
    return removed
  }

  /**
   * Keeps all workspaces under WORKSPACE_MAX_BYTES: evicts finished tasks' workspaces, oldest first
   * (their patches are saved, so nothing is lost), and refuses a new task when running ones alone
   * fill the budget. Sizes are the last measurements (at creation and when each agent ended), so a
   * running agent may go over the budget until it ends; the next task then waits for room.
   */
  async ensureRoom(): Promise<void> {
    const { store, workspaces, maxBytes: max } = this.options
    let usage = workspaces.knownUsage()
    if (usage < max) return
    const evictable = store
      .listAll()
      .filter((task) => task.workspaceDir !== null && FINISHED_STATUSES.has(task.status) && !this.options.isApplying(task.id))
      .sort((a, b) => (a.endedAt ?? a.updatedAt).localeCompare(b.endedAt ?? b.updatedAt))
    for (const task of evictable) {
      usage -= workspaces.knownSize(task.workspaceDir!)
      await this.remove(task.id)
      if (usage < max) return
    }
    throw new InsufficientStorageError(
      `Task workspaces use ${usage} bytes, at WORKSPACE_MAX_BYTES (${max}), and all belong to running tasks; cancel one or raise WORKSPACE_MAX_BYTES.`,
      'workspace_quota',
    )
  }
}
