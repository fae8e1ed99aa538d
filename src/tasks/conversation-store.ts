import type { ApprovalOutcome, ApprovalResolver, ApprovalTool, PermissionOption } from './conversation-events'

/**
 * Where conversations and approvals are kept. The shapes are those of the persistence layer's
 * stores (src/store/, bun:sqlite, so both survive a restart); the Memory* versions here serve a
 * server without it and the tests. Timestamps are ISO-8601 strings; every list is oldest first.
 */

export type MessageRole = 'agent' | 'user'
export type ConversationMessage = { taskId: string; messageId: string; role: MessageRole; content: string; ts: string }

export interface ConversationStore {
  /** Adds a message at the end of its task's conversation, or replaces the content of the one with that messageId. */
  save(message: ConversationMessage): void
  list(taskId: string): ConversationMessage[]
}

export type ApprovalStatus = 'pending' | ApprovalOutcome

export type ApprovalRecord = {
  messageId: string
  taskId: string
  content: string
  tool: ApprovalTool
  options: PermissionOption[]
  status: ApprovalStatus
  createdAt: string
  expiresAt: string | null
  resolvedAt: string | null
  outcome: ApprovalOutcome | null
  optionId: string | null
  by: ApprovalResolver | null
}

export type ApprovalChanges = Partial<Pick<ApprovalRecord, 'status' | 'resolvedAt' | 'outcome' | 'optionId' | 'by'>>

export interface ApprovalStore {
  /** Throws on a duplicate messageId. */
  insert(approval: ApprovalRecord): void
  get(messageId: string): ApprovalRecord | undefined
  /** Returns the updated record; throws for an unknown id. */
  update(messageId: string, changes: ApprovalChanges): ApprovalRecord
  list(taskId: string): ApprovalRecord[]
  /** Every pending approval (at start-up nobody waits on them any more). */
  listPending(): ApprovalRecord[]
}

export const CONVERSATION_LIMITS = {
  /** Transcript messages kept per task in memory; the oldest go first. */
  maxMessagesPerTask: 2000,
  /** Approvals kept per task in memory; the oldest resolved ones go first. */
  maxApprovalsPerTask: 500,
} as const

export class MemoryConversationStore implements ConversationStore {
  private readonly transcripts = new Map<string, ConversationMessage[]>()

  save(message: ConversationMessage): void {
    let list = this.transcripts.get(message.taskId)
    if (!list) this.transcripts.set(message.taskId, (list = []))
    const existing = list.findLastIndex((m) => m.messageId === message.messageId)
    if (existing !== -1) {
      list[existing] = { ...message }
      return
    }
    list.push({ ...message })
    if (list.length > CONVERSATION_LIMITS.maxMessagesPerTask) list.splice(0, list.length - CONVERSATION_LIMITS.maxMessagesPerTask)
  }

  list(taskId: string): ConversationMessage[] {
    return (this.transcripts.get(taskId) ?? []).map((message) => ({ ...message }))
  }

  /** Forgets a task's conversation (the task was deleted or its session ended). */
  deleteTask(taskId: string): void {
    this.transcripts.delete(taskId)
  }
}

export class MemoryApprovalStore implements ApprovalStore {
  private readonly byId = new Map<string, ApprovalRecord>()
  private readonly idsByTask = new Map<string, string[]>()

  insert(approval: ApprovalRecord): void {
    if (this.byId.has(approval.messageId)) throw new Error(`approval ${approval.messageId} already exists`)
    this.byId.set(approval.messageId, { ...approval })
    let ids = this.idsByTask.get(approval.taskId)
    if (!ids) this.idsByTask.set(approval.taskId, (ids = []))
    ids.push(approval.messageId)
    while (ids.length > CONVERSATION_LIMITS.maxApprovalsPerTask) {
      const oldestResolved = ids.findIndex((id) => this.byId.get(id)?.status !== 'pending')
      if (oldestResolved === -1) break
      this.byId.delete(ids[oldestResolved]!)
      ids.splice(oldestResolved, 1)
    }
  }

  get(messageId: string): ApprovalRecord | undefined {
    const approval = this.byId.get(messageId)
    return approval ? { ...approval } : undefined
  }

  update(messageId: string, changes: ApprovalChanges): ApprovalRecord {
    const approval = this.byId.get(messageId)
    if (!approval) throw new Error(`no approval ${messageId}`)
    Object.assign(approval, changes)
    return { ...approval }
  }

  list(taskId: string): ApprovalRecord[] {
    return (this.idsByTask.get(taskId) ?? []).flatMap((id) => {
      const approval = this.byId.get(id)
      return approval ? [{ ...approval }] : []
    })
  }

  listPending(): ApprovalRecord[] {
    return [...this.byId.values()].filter((approval) => approval.status === 'pending').map((approval) => ({ ...approval }))
  }

  deleteTask(taskId: string): void {
    for (const id of this.idsByTask.get(taskId) ?? []) this.byId.delete(id)
    this.idsByTask.delete(taskId)
  }
}
