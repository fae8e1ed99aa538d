import type { Database, Statement } from 'bun:sqlite'
import { eventTextLength, type BusEvent, type EventLog, type SessionEventLog } from '../events'
import type { WriteBehind } from './write-behind'

/** How far past the last written seq a session starts after a lost batch: more than a batch can hold. */
const LOST_BATCH_SEQ_SKIP = 1_000_000

/** What an event costs in a batch beyond its text (its JSON keys, ids and date), in characters. */
const EVENT_OVERHEAD_CHARS = 100

/** Written slots at the head of a session's queue are cut off once they are this many and half of it. */
const COMPACT_QUEUE_HEAD = 1024

/**
 * One session's events waiting for the next batch. Events the ring drops while they wait are
 * skipped by moving `head` (they are in seq order), not by filtering the queue: an append is a
 * push, whatever the burst, and the queue never holds much more than the ring.
 */
type PendingSession = {
  queue: BusEvent[]
  head: number
  /** Where the batch being written ends in `queue`: events queued after it began wait for the next batch. */
  batchEnd: number
  trimFrom: number
  trimmed: boolean
}

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
  private readonly sessions = new Map<string, PendingSession>()
  private readonly insertBatch: Statement
  private readonly saveSeq: Statement
  private readonly saveWrittenSeq: Statement
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
    this.saveWrittenSeq = db.query('UPDATE event_seqs SET last_seq = MAX(last_seq, ?2) WHERE session_id = ?1')
    this.openBatch = db.query(
      `INSERT INTO event_seqs (session_id, last_seq, open_from) SELECT ?1, ?2 - 1, ?2 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?1)
       ON CONFLICT (session_id) DO UPDATE SET open_from = excluded.open_from`,
    )
    this.trimBatches = db.query('DELETE FROM event_batches WHERE session_id = ? AND last_seq < ?')
    this.readBatches = db.query('SELECT body FROM event_batches WHERE session_id = ? ORDER BY first_seq')
    this.readSeq = db.query('SELECT last_seq, open_from FROM event_seqs WHERE session_id = ?')
    this.sessionExists = db.query('SELECT 1 AS found FROM sessions WHERE id = ?')
    writeBehind.register((budget, fresh) => this.flush(budget, fresh))
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
        const pending = this.pendingOf(sessionId)
        // The first event of a batch marks it open, at once: if the process dies before the batch
        // is written, the next start knows events were lost (one small write per batch, not per event).
        if (pending.queue.length === pending.head) this.openBatch.run(sessionId, event.seq)
        pending.queue.push(event)
        this.writeBehind.schedule()
      },
      trimBefore: (seq) => {
        const pending = this.pendingOf(sessionId)
        pending.trimFrom = seq
        pending.trimmed = true
        // Bounded by the ring: what it no longer keeps would be skipped by the batch anyway.
        const { queue } = pending
        while (pending.head < queue.length && queue[pending.head]!.seq < seq) pending.head++
        if (pending.head >= COMPACT_QUEUE_HEAD && pending.head * 2 >= queue.length) {
          pending.queue = queue.slice(pending.head)
          pending.batchEnd = Math.max(0, pending.batchEnd - pending.head)
          pending.head = 0
        }
        this.writeBehind.schedule()
      },
    }
  }

  forget(sessionId: string): void {
    this.sessions.delete(sessionId)
  }

  private pendingOf(sessionId: string): PendingSession {
    let pending = this.sessions.get(sessionId)
    if (!pending) {
      pending = { queue: [], head: 0, batchEnd: 0, trimFrom: 0, trimmed: false }
      this.sessions.set(sessionId, pending)
    }
    return pending
  }

  /**
   * Runs inside WriteBehind's transaction and writes about `budget` characters of events at most
   * (at least one event) of the batch that began with the `fresh` call; true when some of that
   * batch is left. A session's events cut short stay an open batch: the written part counts for
   * the seq, and a crash before the rest is written is a gap as before. Events the ring already
   * dropped are not written, and a session that ended while its events waited has no row any
   * more: its batch is skipped rather than failing the transaction on the foreign key.
   */
  private flush(budget: number, fresh: boolean): boolean {
    let left = budget
    let more = false
    for (const [sessionId, pending] of this.sessions) {
      const { queue, head, trimmed, trimFrom } = pending
      if (fresh) pending.batchEnd = queue.length
      if (queue.length === 0 && !trimmed) continue
      pending.trimmed = false
      if (this.sessionExists.get(sessionId) === null) {
        pending.queue = []
        pending.head = 0
        pending.batchEnd = 0
        continue
      }
      let end = head
      if (head < pending.batchEnd && left > 0) {
        do left -= EVENT_OVERHEAD_CHARS + eventTextLength(queue[end++]!)
        while (end < pending.batchEnd && left > 0)
        const kept = head === 0 && end === queue.length ? queue : queue.slice(head, end)
        this.insertBatch.run(sessionId, kept[0]!.seq, kept.at(-1)!.seq, JSON.stringify(kept))
      }
      if (end < queue.length) {
        // The rest waits for the next transaction (or batch); the batch stays open until it is written.
        if (end > head) this.saveWrittenSeq.run(sessionId, queue[end - 1]!.seq)
        pending.head = end
        if (end < pending.batchEnd) more = true
      } else {
        // Every queued event counts for the seq, even one the ring dropped before it was written.
        const lastQueued = queue.at(-1)
        pending.queue = []
        pending.head = 0
        pending.batchEnd = 0
        if (lastQueued) this.saveSeq.run(sessionId, lastQueued.seq)
      }
      if (trimmed) this.trimBatches.run(sessionId, trimFrom)
    }
    return more
  }
}
