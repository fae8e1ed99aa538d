import { Type, type Static } from '@sinclair/typebox'
import type { FilePatch } from '../git'

export const TaskStatusSchema = Type.Union(
  [Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('applied')],
  { title: 'TaskStatus' },
)
export type TaskStatus = Static<typeof TaskStatusSchema>

/**
 * Finer-grained progress inside a status, carried on `status` events: making the workspace, the
 * agent working, the agent waiting on a question it asked, computing the patches.
 */
export const TaskPhaseSchema = Type.Union(
  [Type.Literal('workspace'), Type.Literal('agent'), Type.Literal('awaiting_input'), Type.Literal('awaiting_approval'), Type.Literal('diff')],
  { title: 'TaskPhase', description: 'awaiting_input: a print-mode agent asked on its terminal; awaiting_approval: an acp agent waits on a confirmation' },
)
export type TaskPhase = Static<typeof TaskPhaseSchema>

export const FINISHED_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled', 'applied'])

/** One task as stored. Timestamps are ISO-8601 strings so any store can keep them as text. */
export type TaskRecord = {
  id: string
  sessionId: string
  instruction: string
  agent: string
  branch: string | null
  context: Record<string, unknown> | null
  status: TaskStatus
  phase: TaskPhase | null
  createdAt: string
  /** When the agent started; the creation time until then. */
  startedAt: string
  updatedAt: string
  endedAt: string | null
  exitCode: number | null
  error: string | null
  patchCount: number
  /** The commit `apply` made. */
  commit: string | null
  /** Null before the workspace exists and after it is removed. */
  workspaceDir: string | null
  baseline: string | null
  /** The agent's ACP session id, for `session/load` when its process is started again. */
  agentSessionId?: string | null
}

/**
 * Where tasks and their final patches live: MemoryTaskStore, or SqliteTaskStore (src/store/),
 * which reads from memory and writes every change through to state.db. Lists are newest first.
 */
export interface TaskStore {
  insert(task: TaskRecord): void
  get(id: string): TaskRecord | undefined
  /** Applies `changes` and returns the updated record; throws for an unknown id. */
  update(id: string, changes: Partial<Omit<TaskRecord, 'id' | 'sessionId'>>): TaskRecord
  listBySession(sessionId: string): TaskRecord[]
  listAll(): TaskRecord[]
  /** Tasks still pending or running (at start-up: those a previous process left behind). */
  listUnfinished(): TaskRecord[]
  delete(id: string): void
  /** The patches computed when the task ended (undefined while it runs). */
  savePatches(id: string, patches: FilePatch[]): void
  patches(id: string): FilePatch[] | undefined
}

/** A task as the API shows it (`GET /api/tasks/{id}`); optional fields are left out when unset. */
export type TaskView = {
  taskId: string
  id: string
  status: TaskStatus
  phase?: TaskPhase
  agent: string
  instruction: string
  branch: string | null
  startedAt: string
  createdAt: string
  updatedAt: string
  endedAt?: string
  exitCode?: number
  error?: string
  patchCount: number
  commit?: string
}

export function toTaskView(task: TaskRecord): TaskView {
  return {
    taskId: task.id,
    id: task.id,
    status: task.status,
    ...(task.phase !== null ? { phase: task.phase } : {}),
    agent: task.agent,
    instruction: task.instruction,
    branch: task.branch,
    startedAt: task.startedAt,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    ...(task.endedAt !== null ? { endedAt: task.endedAt } : {}),
    ...(task.exitCode !== null ? { exitCode: task.exitCode } : {}),
    ...(task.error !== null ? { error: task.error } : {}),
    patchCount: task.patchCount,
    ...(task.commit !== null ? { commit: task.commit } : {}),
  }
}
