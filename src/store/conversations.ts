import type { Database, Statement } from 'bun:sqlite'

export type MessageRole = 'agent' | 'user'

/** One message of a task's conversation (GET /api/tasks/{id}/messages). */
export type ConversationMessage = { taskId: string; messageId: string; role: MessageRole; content: string; ts: string }

/** A task's conversation with its agent, oldest first. */
export interface ConversationStore {
  /**
   * Adds a message at the end of its task's conversation or, when its messageId is already there
   * (agent chunks coalesced into one message), replaces its content and keeps its place.
   */
  save(message: ConversationMessage): void
  list(taskId: string): ConversationMessage[]
}

export class MemoryConversationStore implements ConversationStore {
  private readonly byTask = new Map<string, ConversationMessage[]>()

  save(message: ConversationMessage): void {
    const messages = this.byTask.get(message.taskId) ?? []
    const existing = messages.findIndex((m) => m.messageId === message.messageId)
    if (existing >= 0) messages[existing] = { ...messages[existing]!, content: message.content }
    else messages.push({ ...message })
    this.byTask.set(message.taskId, messages)
  }

  list(taskId: string): ConversationMessage[] {
    return (this.byTask.get(taskId) ?? []).map((m) => ({ ...m }))
  }

  /** Drops a task's conversation (the SQLite store does it by cascade when the task row goes). */
  forgetTask(taskId: string): void {
    this.byTask.delete(taskId)
  }
}

/**
 * Conversations in state.db, written at once: a message is published to clients right after it
 * is saved, and GET .../messages must show it after any restart. Upserting the same messageId
 * keeps its first position (ord), so coalesced chunks do not reorder the conversation.
 */
export class SqliteConversationStore implements ConversationStore {
  private readonly upsert: Statement
  private readonly select: Statement

  constructor(db: Database) {
    this.upsert = db.query(
      `INSERT INTO messages (task_id, message_id, role, content, ts) VALUES ($taskId, $messageId, $role, $content, $ts)
       ON CONFLICT (task_id, message_id) DO UPDATE SET content = excluded.content`,
    )
    this.select = db.query('SELECT task_id AS taskId, message_id AS messageId, role, content, ts FROM messages WHERE task_id = ? ORDER BY ord')
  }

  save(message: ConversationMessage): void {
    this.upsert.run({ ...message })
  }

  list(taskId: string): ConversationMessage[] {
    return this.select.all(taskId) as ConversationMessage[]
  }
}
