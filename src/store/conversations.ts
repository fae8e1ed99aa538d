import type { Database, Statement } from 'bun:sqlite'
import type { ConversationMessage, ConversationStore } from '../tasks/conversation-store'

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
