import type { Database, Statement } from 'bun:sqlite'
import { restorePatchOrigin, patchOrigin, type FilePatch, type PatchOrigin } from '../git'
import type { TaskPhase, TaskRecord, TaskStatus, TaskStore } from '../tasks/types'

type TaskRow = {
  id: string
  session_id: string
  ord: number
  instruction: string
  agent: string
  branch: string | null
  context: string | null
  status: string
  phase: string | null
  created_at: string
  started_at: string
  updated_at: string
  ended_at: string | null
  exit_code: number | null
  error: string | null
  patch_count: number
  commit_sha: string | null
  workspace_dir: string | null
  baseline: string | null
  agent_session_id: string | null
}

/** A patch as kept in state.db: the patch and where its content can be read back from. */
type StoredPatch = { patch: FilePatch; origin: PatchOrigin | null }

/** Parsed patches of this many tasks stay in memory; others are read back when asked for. */
const PATCH_CACHE_TASKS = 32

function toRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    instruction: row.instruction,
    agent: row.agent,
    branch: row.branch,
    context: row.context === null ? null : (JSON.parse(row.context) as Record<string, unknown>),
    status: row.status as TaskStatus,
    phase: row.phase as TaskPhase | null,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    error: row.error,
    patchCount: row.patch_count,
    commit: row.commit_sha,
    workspaceDir: row.workspace_dir,
    baseline: row.baseline,
    agentSessionId: row.agent_session_id,
  }
}

function toParams(task: TaskRecord, ord: number): Record<string, string | number | null> {
  return {
    id: task.id,
    sessionId: task.sessionId,
    ord,
    instruction: task.instruction,
    agent: task.agent,
    branch: task.branch,
    context: task.context === null ? null : JSON.stringify(task.context),
    status: task.status,
    phase: task.phase,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    updatedAt: task.updatedAt,
    endedAt: task.endedAt,
    exitCode: task.exitCode,
    error: task.error,
    patchCount: task.patchCount,
    commit: task.commit,
    workspaceDir: task.workspaceDir,
    baseline: task.baseline,
    agentSessionId: task.agentSessionId ?? null,
  }
}

const COLUMNS = `id, session_id, ord, instruction, agent, branch, context, status, phase, created_at, started_at, updated_at,
  ended_at, exit_code, error, patch_count, commit_sha, workspace_dir, baseline, agent_session_id`
const VALUES = `$id, $sessionId, $ord, $instruction, $agent, $branch, $context, $status, $phase, $createdAt, $startedAt, $updatedAt,
  $endedAt, $exitCode, $error, $patchCount, $commit, $workspaceDir, $baseline, $agentSessionId`

type Entry = { record: TaskRecord; ord: number }

/**
 * Tasks in state.db, read from memory. Every change is written through at once, before the
 * caller publishes it: a task's status is what clients act on (apply a completed task, stop
 * waiting on a failed one), so no SIGKILL may take back one they were told about. One row write
 * in WAL mode with synchronous=NORMAL is tens of microseconds and has no fsync.
 * Rows are read into memory when first asked for (by id, by session, or all at once), not at
 * start-up: 10 000 tasks would cost start-up more than the rest of it together.
 */
export class SqliteTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Entry>()
  private readonly bySession = new Map<string, Map<string, Entry>>()
  private readonly loadedSessions = new Set<string>()
  private allLoaded = false
  private readonly patchCache = new Map<string, FilePatch[]>()
  private nextOrd: number
  private readonly insertRow: Statement
  private readonly updateRow: Statement
  private readonly deleteRow: Statement
  private readonly savePatchesRow: Statement
  private readonly readPatchesRow: Statement

  constructor(private readonly db: Database) {
    this.nextOrd = ((db.query('SELECT MAX(ord) AS ord FROM tasks').get() as { ord: number | null }).ord ?? 0) + 1
    this.insertRow = db.query(`INSERT INTO tasks (${COLUMNS}) VALUES (${VALUES})`)
    // An UPDATE, not INSERT OR REPLACE: a replace deletes the row first, and the delete would
    // cascade to the task's patches, messages and approvals.
    this.updateRow = db.query(`UPDATE tasks SET (${COLUMNS}) = (${VALUES}) WHERE id = $id`)
    this.deleteRow = db.query('DELETE FROM tasks WHERE id = ?')
    this.savePatchesRow = db.query('INSERT OR REPLACE INTO task_patches (task_id, patches) VALUES (?, ?)')
    this.readPatchesRow = db.query('SELECT patches FROM task_patches WHERE task_id = ?')
  }

  insert(task: TaskRecord): void {
    if (this.entry(task.id)) throw new Error(`task ${task.id} already exists`)
    const ord = this.nextOrd++
    this.insertRow.run(toParams(task, ord))
    this.remember({ record: { ...task }, ord })
  }

  get(id: string): TaskRecord | undefined {
    const entry = this.entry(id)
    return entry ? { ...entry.record } : undefined
  }

  update(id: string, changes: Partial<Omit<TaskRecord, 'id' | 'sessionId'>>): TaskRecord {
    const entry = this.entry(id)
    if (!entry) throw new Error(`task ${id} does not exist`)
    const next = { ...entry.record, ...changes }
    this.updateRow.run(toParams(next, entry.ord))
    entry.record = next
    return { ...next }
  }

  listBySession(sessionId: string): TaskRecord[] {
    if (!this.allLoaded && !this.loadedSessions.has(sessionId)) {
      for (const row of this.db.query(`SELECT ${COLUMNS} FROM tasks WHERE session_id = ?`).all(sessionId) as TaskRow[]) this.load(row)
      this.loadedSessions.add(sessionId)
    }
    return newestFirst(this.bySession.get(sessionId)?.values() ?? [])
  }

  listAll(): TaskRecord[] {
    if (!this.allLoaded) {
      for (const row of this.db.query(`SELECT ${COLUMNS} FROM tasks`).all() as TaskRow[]) this.load(row)
      this.allLoaded = true
    }
    return newestFirst(this.tasks.values())
  }

  listUnfinished(): TaskRecord[] {
    const rows = this.db.query(`SELECT ${COLUMNS} FROM tasks WHERE status IN ('pending', 'running') ORDER BY ord DESC`).all() as TaskRow[]
    return rows.map((row) => ({ ...this.load(row).record }))
  }

  delete(id: string): void {
    this.deleteRow.run(id)
    const entry = this.tasks.get(id)
    this.tasks.delete(id)
    if (entry) this.bySession.get(entry.record.sessionId)?.delete(id)
    this.patchCache.delete(id)
  }
  savePatches(id: string, patches: FilePatch[]): void {
    const stored: StoredPatch[] = patches.map((patch) => ({ patch, origin: patchOrigin(patch) ?? null }))
    this.savePatchesRow.run(id, JSON.stringify(stored))
    this.cachePatches(id, patches)
  }

  patches(id: string): FilePatch[] | undefined {
    const cached = this.patchCache.get(id)
    if (cached) return cached
    const row = this.readPatchesRow.get(id) as { patches: string } | null
    if (!row) return undefined
    const patches = (JSON.parse(row.patches) as StoredPatch[]).map(({ patch, origin }) => {
      if (origin) restorePatchOrigin(patch, origin)
      return patch
    })
    this.cachePatches(id, patches)
    return patches
  }

  private cachePatches(id: string, patches: FilePatch[]): void {
    this.patchCache.delete(id)
    this.patchCache.set(id, patches)
    for (const oldest of this.patchCache.keys()) {
      if (this.patchCache.size <= PATCH_CACHE_TASKS) break
      this.patchCache.delete(oldest)
    }
  }

  /** The cached entry, read from the database on a miss. */
  private entry(id: string): Entry | undefined {
    const cached = this.tasks.get(id)
    if (cached || this.allLoaded) return cached
    const row = this.db.query(`SELECT ${COLUMNS} FROM tasks WHERE id = ?`).get(id) as TaskRow | null
    return row ? this.load(row) : undefined
  }

  /** Caches a row unless the cache already has the task (the cache is never older than the database). */
  private load(row: TaskRow): Entry {
    return this.tasks.get(row.id) ?? this.remember({ record: toRecord(row), ord: row.ord })
  }

  private remember(entry: Entry): Entry {
    this.tasks.set(entry.record.id, entry)
    let session = this.bySession.get(entry.record.sessionId)
    if (!session) {
      session = new Map()
      this.bySession.set(entry.record.sessionId, session)
    }
    session.set(entry.record.id, entry)
    return entry
  }
}

function newestFirst(entries: Iterable<Entry>): TaskRecord[] {
  return [...entries].sort((a, b) => b.ord - a.ord).map((entry) => ({ ...entry.record }))
}
