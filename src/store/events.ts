import type { Database, Statement } from 'bun:sqlite'
import type { BusEvent, EventLog, SessionEventLog } from '../events'
import type { WriteBehind } from './write-behind'

/** How far past the last written seq a session starts after a lost batch: more than a batch can hold. */
const LOST_BATCH_SEQ_SKIP = 1_000_000

/** A session's queue longer than this drops what its ring already dropped (a burst between two batches). */
const COMPACT_QUEUE_EVENTS = 10_000

/**
 * Each session's kept events in state.db, written behind in batches (see WriteBehind): event
 * fan-out never waits on the disk. A batch of a session is one row (a JSON array), so a burst of
 * thousands of events costs one insert, events the ring dropped before their batch was written
 * are never written, and trimming what left the ring deletes whole rows.
 * What a crash can lose is the last batch of events (at most 100 ms of them); the batch was
 * marked open when it started, so the next start skips the seq past it and answers a resume from
 * before it with `gap`: the client refetches instead of missing anything silently. Status changes themselves are in the tasks table, written at
 * once, so refetching shows the truth.
 */
export class SqliteEventLog implements EventLog {
  private pending = new Map<string, BusEvent[]>()
  private readonly trims = new Map<string, number>()
  private readonly insertBatch: Statement
  private readonly saveSeq: Statement
  private readonly trimBatches: Statement
  private readonly readBatches: Statement
  private readonly readSeq: Statement
  private readonly sessionExists: Statement
  private readonly openBatch: Statement

  constructor(
    db: Database,
    private readonly writeBehind: WriteBehind,
  ) {
    this.insertBatch = db.query('INSERT OR REPLACE INTO event_batches (session_id, first_seq, last_seq, body) VALUES (?, ?, ?, ?)')
    this.saveSeq = db.query(
      `INSERT INTO event_seqs (session_id, last_seq, open_from) VALUES (?1, ?2, NULL)
       ON CONFLICT (session_id) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq), open_from = NULL`,
    )
    this.openBatch = db.query(
      `INSERT INTO event_seqs (session_id, last_seq, open_from) SELECT ?1, ?2 - 1, ?2 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?1)
       ON CONFLICT (session_id) DO UPDATE SET open_from = excluded.open_from`,
    )
    this.trimBatches = db.query('DELETE FROM event_batches WHERE session_id = ? AND last_seq < ?')
    this.readBatches = db.query('SELECT body FROM event_batches WHERE session_id = ? ORDER BY first_seq')
    this.readSeq = db.query('SELECT last_seq, open_from FROM event_seqs WHERE session_id = ?')
    this.sessionExists = db.query('SELECT 1 AS found FROM sessions WHERE id = ?')
    writeBehind.register(() => this.flush())
  }

  forSession(sessionId: string): SessionEventLog {
    return {
      load: () => {
        const events = (this.readBatches.all(sessionId) as { body: string }[]).flatMap((row) => JSON.parse(row.body) as BusEvent[])
        const row = this.readSeq.get(sessionId) as { last_seq: number; open_from: number | null } | null
        const written = Math.max(row?.last_seq ?? 0, events.at(-1)?.seq ?? 0)
        if (row?.open_from === null || row?.open_from === undefined) return { lastSeq: written, events }
        // A batch was open when the process died: its events are lost. New events start past any
        // seq it can have handed out, and a client that resumes from before that point gets `gap`.
        const resumeFrom = written + LOST_BATCH_SEQ_SKIP
        return { lastSeq: resumeFrom, events, gapBelow: resumeFrom }
      },
      append: (event) => {
        let queue = this.pending.get(sessionId)
        if (!queue) {
          queue = []
          this.pending.set(sessionId, queue)
        }
        // The first event of a batch marks it open, at once: if the process dies before the batch
        // is written, the next start knows events were lost (one small write per batch, not per event).
        if (queue.length === 0) this.openBatch.run(sessionId, event.seq)
        queue.push(event)
        if (queue.length > COMPACT_QUEUE_EVENTS) {
          // Bounded by the ring: what it no longer keeps would be skipped by the batch anyway.
          const from = this.trims.get(sessionId) ?? 0
          this.pending.set(sessionId, queue.filter((queued) => queued.seq >= from))
        }
        this.writeBehind.schedule()
      },
      trimBefore: (seq) => {
        this.trims.set(sessionId, seq)
        this.writeBehind.schedule()
      },
    }
  }

  forget(sessionId: string): void {
    this.pending.delete(sessionId)
    this.trims.delete(sessionId)
  }

  /**
   * Runs inside WriteBehind's transaction. Events the ring already dropped are not written, and a
   * session that ended while its events waited has no row any more: its batch is skipped rather
   * than failing the transaction on the foreign key.
   */
  private flush(): void {
    const pending = this.pending
    this.pending = new Map()
    for (const [sessionId, queued] of pending) {
      if (this.sessionExists.get(sessionId) === null) continue
      const from = this.trims.get(sessionId) ?? 0
      const kept = from > queued[0]!.seq ? queued.filter((event) => event.seq >= from) : queued
      if (kept.length > 0) this.insertBatch.run(sessionId, kept[0]!.seq, kept.at(-1)!.seq, JSON.stringify(kept))
      this.saveSeq.run(sessionId, queued.at(-1)!.seq)
    }
    for (const [sessionId, seq] of this.trims) this.trimBatches.run(sessionId, seq)
    this.trims.clear()
  }
}
