import type { Database } from 'bun:sqlite'
import { SqliteApprovalStore } from './approvals'
import { SqliteConversationStore } from './conversations'
import { openDatabase, releasePidFile } from './db'
import { SqliteEventLog } from './events'
import { SqliteSessionRows } from './sessions'
import { SqliteTaskStore } from './tasks'
import { WriteBehind } from './write-behind'

/** Everything kept in STATE_DIR/state.db, opened once per process and held (one server per STATE_DIR). */
export type State = {
  readonly stateDir: string
  readonly db: Database
  /** The id every event carries; made on first start and kept, so a restart alone is never a gap. */
  readonly epoch: string
  readonly sessions: SqliteSessionRows
  readonly tasks: SqliteTaskStore
  readonly events: SqliteEventLog
  readonly conversations: SqliteConversationStore
  readonly approvals: SqliteApprovalStore
  /** Writes what is queued behind (events, session activity) now. */
  flush(): void
  /** Flushes, closes the database (releasing the lock) and removes the pid file. */
  close(): void
}

function keptEpoch(db: Database): string {
  const row = db.query("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | null
  if (row) return row.value
  const epoch = crypto.randomUUID()
  db.query("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(epoch)
  return epoch
}

/** Opens (creating or migrating) STATE_DIR/state.db; throws StateError with the line start-up prints. */
export function openState(stateDir: string, options: { onWriteError?: (error: unknown) => void } = {}): State {
  // The epoch goes into a new database as it is made (see createWhole in db.ts).
  const db = openDatabase(stateDir, { initialize: keptEpoch })
  const writeBehind = new WriteBehind(db, 100, options.onWriteError)
  let closed = false
  return {
    stateDir,
    db,
    epoch: keptEpoch(db),
    sessions: new SqliteSessionRows(db, writeBehind),
    tasks: new SqliteTaskStore(db),
    events: new SqliteEventLog(db, writeBehind),
    conversations: new SqliteConversationStore(db),
    approvals: new SqliteApprovalStore(db),
    flush: () => writeBehind.flush(),
    close() {
      if (closed) return
      closed = true
      writeBehind.close()
      db.close()
      releasePidFile(stateDir)
    },
  }
}
