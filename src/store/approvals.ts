import type { Database, Statement } from 'bun:sqlite'
import type { ApprovalOutcome, ApprovalResolver, ApprovalTool, PermissionOption } from '../tasks/conversation-events'
import type { ApprovalChanges, ApprovalRecord, ApprovalStatus, ApprovalStore } from '../tasks/conversation-store'

type ApprovalRow = {
  message_id: string
  task_id: string
  content: string
  tool: string
  options: string
  status: string
  created_at: string
  expires_at: string | null
  resolved_at: string | null
  outcome: string | null
  option_id: string | null
  by: string | null
}

function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    messageId: row.message_id,
    taskId: row.task_id,
    content: row.content,
    tool: JSON.parse(row.tool) as ApprovalTool,
    options: JSON.parse(row.options) as PermissionOption[],
    status: row.status as ApprovalStatus,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    resolvedAt: row.resolved_at,
    outcome: row.outcome as ApprovalOutcome | null,
    optionId: row.option_id,
    by: row.by as ApprovalResolver | null,
  }
}

/** Approvals in state.db, written at once: a pending one must still be answerable after a restart. */
export class SqliteApprovalStore implements ApprovalStore {
  private readonly insertRow: Statement
  private readonly selectOne: Statement
  private readonly selectByTask: Statement
  private readonly selectPending: Statement
  private readonly updateRow: Statement

  constructor(db: Database) {
    this.insertRow = db.query(
      `INSERT INTO approvals (message_id, task_id, content, tool, options, status, created_at, expires_at, resolved_at, outcome, option_id, by)
       VALUES ($messageId, $taskId, $content, $tool, $options, $status, $createdAt, $expiresAt, $resolvedAt, $outcome, $optionId, $by)`,
    )
    this.selectOne = db.query('SELECT * FROM approvals WHERE message_id = ?')
    this.selectByTask = db.query('SELECT * FROM approvals WHERE task_id = ? ORDER BY created_at, rowid')
    this.selectPending = db.query("SELECT * FROM approvals WHERE status = 'pending' ORDER BY created_at, rowid")
    this.updateRow = db.query(
      'UPDATE approvals SET status = $status, resolved_at = $resolvedAt, outcome = $outcome, option_id = $optionId, by = $by WHERE message_id = $messageId',
    )
  }

  insert(approval: ApprovalRecord): void {
    this.insertRow.run({ ...approval, tool: JSON.stringify(approval.tool), options: JSON.stringify(approval.options) })
  }

  get(messageId: string): ApprovalRecord | undefined {
    const row = this.selectOne.get(messageId) as ApprovalRow | null
    return row ? toRecord(row) : undefined
  }

  update(messageId: string, changes: ApprovalChanges): ApprovalRecord {
    const current = this.get(messageId)
    if (!current) throw new Error(`approval ${messageId} does not exist`)
    const next = { ...current, ...changes }
    this.updateRow.run({ messageId, status: next.status, resolvedAt: next.resolvedAt, outcome: next.outcome, optionId: next.optionId, by: next.by })
    return next
  }

  list(taskId: string): ApprovalRecord[] {
    return (this.selectByTask.all(taskId) as ApprovalRow[]).map(toRecord)
  }

  listPending(): ApprovalRecord[] {
    return (this.selectPending.all() as ApprovalRow[]).map(toRecord)
  }
}
