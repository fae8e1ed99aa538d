import { describe, expect, it } from 'bun:test'
import { EventHub, DEFAULT_RING_LIMITS, OutputEvent } from '../../src/events'
import { TaskPatchEvent, TaskStatusEvent } from '../../src/tasks/events'
import { MemorySessionStore } from '../../src/session'
import { openState, type State } from '../../src/store'
import { SqliteEventLog } from '../../src/store/events'
import { WriteBehind } from '../../src/store/write-behind'
import { MemoryApprovalStore, MemoryConversationStore, type ApprovalRecord, type ApprovalStore, type ConversationStore } from '../../src/tasks/conversation-store'
import type { TaskRecord } from '../../src/tasks'
import { scratchState } from './helpers'

function reopen(state: State): State {
  state.close()
  return openState(state.stateDir)
}

function taskRecord(id: string, sessionId: string, changes: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString()
  return {
    id,
    sessionId,
    instruction: 'do it',
    agent: 'mock',
    branch: null,
    context: { mock: { delayMs: 5 } },
    status: 'pending',
    phase: null,
    createdAt: now,
    startedAt: now,
    updatedAt: now,
    endedAt: null,
    exitCode: null,
    error: null,
    patchCount: 0,
    commit: null,
    workspaceDir: null,
    baseline: null,
    ...changes,
  }
}

describe('sessions in state.db', () => {
  it('come back after a reopen with their repo, label and both expiries; activity is written behind', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const sessions = new MemorySessionStore(3600, 1000, undefined, state.sessions)
    const session = sessions.create({ repo: '/repo', label: 'phone' })
    session.expiresAt = new Date(session.expiresAt.getTime() - 60_000)
    sessions.touch(session.id)
    state.flush()
    state = reopen(state)
    const again = new MemorySessionStore(3600, 1000, undefined, state.sessions).get(session.id)
    expect(again).toEqual({ ...session })
    state.close()
  })

  it('ending a session deletes it with its tasks, patches, conversation, approvals and events; a shutdown keeps it', async () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const sessions = new MemorySessionStore(3600, 1000, undefined, state.sessions)
    const kept = sessions.create({ repo: '/repo' })
    const ended = sessions.create({ repo: '/repo' })
    const events = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    for (const session of [kept, ended]) {
      state.tasks.insert(taskRecord(`task-${session.id}`, session.id))
      state.tasks.savePatches(`task-${session.id}`, [])
      state.conversations.save({ taskId: `task-${session.id}`, messageId: 'm1', role: 'user', content: 'hi', ts: new Date().toISOString() })
      events.publish(session.id, TaskStatusEvent, { taskId: `task-${session.id}`, status: 'pending' })
    }
    state.flush()
    await sessions.end(ended.id, 'deleted')
    await sessions.end(kept.id, 'shutdown')
    state = reopen(state)
    const count = (table: string) => (state.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
    expect([count('sessions'), count('tasks'), count('task_patches'), count('messages'), count('event_batches'), count('event_seqs')]).toEqual([1, 1, 1, 1, 1, 1])
    expect(new MemorySessionStore(3600, 1000, undefined, state.sessions).get(kept.id)?.id).toBe(kept.id)
    state.close()
  })
})

describe('tasks in state.db', () => {
  it('come back newest first with every field, and their patches with them', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    state.tasks.insert(taskRecord('t1', session.id))
    state.tasks.insert(taskRecord('t2', session.id, { branch: 'feature/x' }))
    const updated = state.tasks.update('t1', { status: 'completed', phase: null, exitCode: 0, patchCount: 1, workspaceDir: '/ws/t1', baseline: 'abc', agentSessionId: 'acp-1' })
    const patch = { file: 'a.txt', type: 'modified' as const, binary: false, patch: 'diff', content: 'diff', hunks: [{ startOld: 1, lenOld: 1, startNew: 1, lenNew: 1, lines: ['-a', '+b'] }] }
    state.tasks.savePatches('t1', [patch])
    state = reopen(state)
    expect(state.tasks.listBySession(session.id).map((t) => t.id)).toEqual(['t2', 't1'])
    expect(state.tasks.get('t1')).toEqual(updated)
    expect(state.tasks.get('t2')?.branch).toBe('feature/x')
    expect(state.tasks.patches('t1')).toEqual([patch])
    expect(state.tasks.patches('t2')).toBeUndefined()
    state.tasks.delete('t1')
    state = reopen(state)
    expect(state.tasks.get('t1')).toBeUndefined()
    expect(state.tasks.patches('t1')).toBeUndefined()
    state.close()
  })

  it('an update does not cascade: the task keeps its patches and conversation', () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    state.tasks.insert(taskRecord('t1', session.id))
    state.tasks.savePatches('t1', [])
    state.conversations.save({ taskId: 't1', messageId: 'm1', role: 'agent', content: 'hello', ts: new Date().toISOString() })
    state.tasks.update('t1', { status: 'running' })
    expect(state.tasks.patches('t1')).toEqual([])
    expect(state.conversations.list('t1')).toHaveLength(1)
    state.close()
  })
})

/**
 * A session's events written through a WriteBehind of the test's own, with slices of 1000
 * characters and a timer that never comes in a test: only the test's flushes begin a batch.
 * Each event published counts 500 characters (its text and 100), so two fill a slice.
 */
function slicedEvents(state: State, limits = DEFAULT_RING_LIMITS) {
  const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
  const failures: unknown[] = []
  const writeBehind = new WriteBehind(state.db, 60_000, (error) => failures.push(error), 1000)
  const hub = new EventHub(state.epoch, limits, undefined, new SqliteEventLog(state.db, writeBehind))
  const publish = (count: number) => {
    for (let i = 0; i < count; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: 'z'.repeat(400) })
  }
  const rows = () => state.db.query('SELECT first_seq AS first, last_seq AS last FROM event_batches ORDER BY first_seq').all()
  const seqRow = () => state.db.query('SELECT last_seq, open_from FROM event_seqs').get() as { last_seq: number; open_from: number | null }
  /** No write failed; the log and the database close. */
  const finish = () => {
    expect(failures).toEqual([])
    writeBehind.close()
    state.close()
  }
  return { session, writeBehind, publish, rows, seqRow, finish }
}

describe('events in state.db', () => {
  it('a reopened hub continues the seq of each session with the same epoch and replays the kept events', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    for (let i = 0; i < 10; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: `line ${i}` })
    state = reopen(state)
    const again = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events).forSession(session.id)
    expect(again.lastSeq).toBe(10)
    expect(again.replay(7, state.epoch)).toMatchObject({ status: 'ok', events: [{ seq: 8 }, { seq: 9 }, { seq: 10 }] })
    expect(again.publish(TaskPatchEvent, { taskId: 't', count: 1 }).seq).toBe(11)
    state.close()
  })

  it('a batch written across several flushes comes back whole, and a restored ring keeps only what the limits allow', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, { maxEvents: 100, maxBytes: 1024 * 1024 }, undefined, state.events)
    for (let i = 0; i < 30; i++) {
      hub.publish(session.id, OutputEvent, { taskId: 't', data: `${i}` })
      if (i % 7 === 0) state.flush()
    }
    state = reopen(state)
    expect(new EventHub(state.epoch, { maxEvents: 100, maxBytes: 1024 * 1024 }, undefined, state.events).forSession(session.id).replay(0, state.epoch).events.map((e) => e.seq)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    )
    const small = new EventHub(state.epoch, { maxEvents: 4, maxBytes: 1024 * 1024 }, undefined, state.events).forSession(session.id)
    expect(small.replay(26, state.epoch)).toMatchObject({ status: 'ok', events: [{ seq: 27 }, { seq: 28 }, { seq: 29 }, { seq: 30 }] })
    expect(small.replay(20, state.epoch).status).toBe('gap')
    state.close()
  })

  it('events that left the ring leave the database too, and the seq survives them', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const limits = { maxEvents: 5, maxBytes: 1024 * 1024 }
    const hub = new EventHub(state.epoch, limits, undefined, state.events)
    for (let i = 0; i < 12; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: `${i}` })
    state = reopen(state)
    expect(state.db.query('SELECT first_seq AS first, last_seq AS last FROM event_batches').all()).toEqual([{ first: 8, last: 12 }])
    const bus = new EventHub(state.epoch, limits, undefined, state.events).forSession(session.id)
    expect(bus.replay(2, state.epoch).status).toBe('gap')
    expect(bus.replay(7, state.epoch).events.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12])
    state.close()
  })

  it('writes a burst larger than a slice in several transactions, the event loop turning in between, every event in order', async () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    // 12 chunks of 64 Ki characters (the ring keeps them all): three slices of 256 Ki at least.
    const chunk = 'y'.repeat(64 * 1024)
    for (let i = 0; i < 12; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: chunk })
    const seqRow = () => state.db.query('SELECT last_seq, open_from FROM event_seqs WHERE session_id = ?').get(session.id) as { last_seq: number; open_from: number | null }
    const rowCount = () => (state.db.query('SELECT COUNT(*) AS n FROM event_batches').get() as { n: number }).n
    // Polled on every turn of the event loop: a count between none and all was seen by code that
    // ran between two of the transactions.
    const seen = new Set<number>()
    for (let turns = 0; turns < 100_000 && seqRow().open_from !== null; turns++) {
      seen.add(rowCount())
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(seqRow()).toEqual({ last_seq: 12, open_from: null })
    const rows = state.db.query('SELECT first_seq AS first, last_seq AS last, length(body) AS size FROM event_batches ORDER BY first_seq').all() as { first: number; last: number; size: number }[]
    expect(rows.length).toBeGreaterThanOrEqual(3)
    expect([...seen].some((n) => n > 0 && n < rows.length)).toBe(true)
    expect(rows[0]!.first).toBe(1)
    expect(rows.at(-1)!.last).toBe(12)
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.first).toBe(rows[i - 1]!.last + 1)
    // A slice goes over its budget by one event at most.
    for (const row of rows) expect(row.size).toBeLessThan(256 * 1024 + chunk.length + 1024)
    state.close()
    const again = openState(scratch.stateDir)
    const bus = new EventHub(again.epoch, DEFAULT_RING_LIMITS, undefined, again.events).forSession(session.id)
    expect(bus.replay(0, again.epoch).events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    again.close()
  })

  it('keeps a batch cut short by its slice open: a crash before the rest is written makes the next start answer gap', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const { session, writeBehind, publish, rows, seqRow } = slicedEvents(state)
    publish(6)
    expect(writeBehind.flush(1000)).toBe(true)
    expect(rows()).toEqual([{ first: 1, last: 2 }])
    expect(seqRow()).toEqual({ last_seq: 2, open_from: 1 })
    // The process dies here, before the rest is written (the slice's follow-up then finds the database closed).
    state.db.close()
    state = openState(scratch.stateDir)
    const bus = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events).forSession(session.id)
    expect(bus.lastSeq).toBeGreaterThan(6)
    expect(bus.replay(2, state.epoch).status).toBe('gap')
    expect(bus.replay(0, state.epoch).events.map((e) => e.seq)).toEqual([1, 2])
    state.close()
  })

  it('writes the rest of a batch cut short on the next turns of the event loop; what came after waits for the next batch', async () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    const { writeBehind, publish, rows, seqRow, finish } = slicedEvents(state)
    publish(6)
    expect(writeBehind.flush(1000)).toBe(true)
    // Queued after the batch began: not chased by its slices.
    publish(2)
    for (let turns = 0; turns < 5000 && seqRow().last_seq < 6; turns++) await Bun.sleep(1)
    await Bun.sleep(50)
    expect(rows()).toEqual([
      { first: 1, last: 2 },
      { first: 3, last: 4 },
      { first: 5, last: 6 },
    ])
    expect(seqRow()).toEqual({ last_seq: 6, open_from: 1 })
    // The next batch takes them and closes it.
    writeBehind.flush()
    expect(rows()).toEqual([
      { first: 1, last: 2 },
      { first: 3, last: 4 },
      { first: 5, last: 6 },
      { first: 7, last: 8 },
    ])
    expect(seqRow()).toEqual({ last_seq: 8, open_from: null })
    finish()
  })

  it('skips what the ring drops while a batch is written in slices, and keeps in state.db what the ring keeps', async () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    const { writeBehind, publish, rows, seqRow, finish } = slicedEvents(state, { maxEvents: 100, maxBytes: 1024 * 1024 })
    publish(300)
    // The ring keeps seqs 201-300; the batch's first slice writes two of them.
    expect(writeBehind.flush(1000)).toBe(true)
    expect(rows()).toEqual([{ first: 201, last: 202 }])
    // Meanwhile the ring moves on past the whole batch (and the queue is compacted under it): the
    // next slice writes none of it and deletes what the first one wrote.
    publish(2000)
    for (let turns = 0; turns < 500 && rows().length > 0; turns++) await Bun.sleep(10)
    expect(rows()).toEqual([])
    expect(seqRow()).toEqual({ last_seq: 202, open_from: 1 })
    writeBehind.flush()
    expect(rows()).toEqual([{ first: 2201, last: 2300 }])
    expect(seqRow()).toEqual({ last_seq: 2300, open_from: null })
    finish()
  })

  it('drops queued events of a session that ended before they were written', async () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const sessions = new MemorySessionStore(3600, 1000, undefined, state.sessions)
    const session = sessions.create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    hub.publish(session.id, OutputEvent, { taskId: 't', data: 'x' })
    await sessions.end(session.id, 'deleted')
    hub.closeSession(session.id)
    hub.publish(session.id, TaskStatusEvent, { taskId: 't', status: 'cancelled' })
    state = reopen(state)
    expect(state.db.query('SELECT COUNT(*) AS n FROM event_batches').get()).toEqual({ n: 0 })
    state.close()
  })
})

function conversationContract(name: string, make: () => { store: ConversationStore; done(): void; taskId: string }) {
  describe(`${name}: a conversation`, () => {
    it('keeps messages in order and a coalesced message in its first place', () => {
      const { store, done, taskId } = make()
      try {
        const ts = new Date().toISOString()
        store.save({ taskId, messageId: 'a1', role: 'agent', content: 'Hel', ts })
        store.save({ taskId, messageId: 'u1', role: 'user', content: 'go on', ts })
        store.save({ taskId, messageId: 'a1', role: 'agent', content: 'Hello', ts })
        expect(store.list(taskId).map((m) => [m.messageId, m.role, m.content])).toEqual([
          ['a1', 'agent', 'Hello'],
          ['u1', 'user', 'go on'],
        ])
        expect(store.list('another-task')).toEqual([])
      } finally {
        done()
      }
    })
  })
}

function approvalContract(name: string, make: () => { store: ApprovalStore; done(): void; taskId: string }) {
  const approval = (taskId: string, messageId: string): ApprovalRecord => ({
    messageId,
    taskId,
    content: 'mock wants to run: npm test',
    tool: { title: 'npm test', kind: 'execute', command: 'npm test' },
    options: [
      { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
      { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
    ],
    status: 'pending',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 900_000).toISOString(),
    resolvedAt: null,
    outcome: null,
    optionId: null,
    by: null,
  })
  describe(`${name}: approvals`, () => {
    it('are inserted once, resolved by update, listed per task and while pending', () => {
      const { store, done, taskId } = make()
      try {
        store.insert(approval(taskId, 'q1'))
        store.insert(approval(taskId, 'q2'))
        expect(() => store.insert(approval(taskId, 'q1'))).toThrow()
        const resolvedAt = new Date().toISOString()
        const resolved = store.update('q1', { status: 'allowed', outcome: 'allowed', optionId: 'allow', by: 'client', resolvedAt })
        expect(resolved).toEqual({ ...approval(taskId, 'q1'), createdAt: resolved.createdAt, expiresAt: resolved.expiresAt, status: 'allowed', outcome: 'allowed', optionId: 'allow', by: 'client', resolvedAt })
        expect(store.get('q1')).toEqual(resolved)
        expect(store.list(taskId).map((a) => a.messageId)).toEqual(['q1', 'q2'])
        expect(store.listPending().map((a) => a.messageId)).toEqual(['q2'])
        expect(() => store.update('nope', { status: 'expired' })).toThrow()
        expect(store.get('nope')).toBeUndefined()
      } finally {
        done()
      }
    })
  })
}

conversationContract('memory', () => ({ store: new MemoryConversationStore(), done() {}, taskId: 't1' }))
approvalContract('memory', () => ({ store: new MemoryApprovalStore(), done() {}, taskId: 't1' }))

function sqliteWithTask() {
  const scratch = scratchState()
  const state = openState(scratch.stateDir)
  const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
  state.tasks.insert(taskRecord('t1', session.id))
  return {
    state,
    taskId: 't1',
    done() {
      state.close()
      scratch[Symbol.dispose]()
    },
  }
}
conversationContract('state.db', () => {
  const s = sqliteWithTask()
  return { ...s, store: s.state.conversations }
})
approvalContract('state.db', () => {
  const s = sqliteWithTask()
  return { ...s, store: s.state.approvals }
})

describe('conversations and approvals in state.db', () => {
  it('survive a reopen and go with their task', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    state.tasks.insert(taskRecord('t1', session.id))
    state.conversations.save({ taskId: 't1', messageId: 'm1', role: 'user', content: 'hi', ts: new Date().toISOString() })
    state.approvals.insert({
      messageId: 'q1', taskId: 't1', content: 'c', tool: { title: 't', kind: 'other' }, options: [], status: 'pending',
      createdAt: new Date().toISOString(), expiresAt: null, resolvedAt: null, outcome: null, optionId: null, by: null,
    })
    state = reopen(state)
    expect(state.conversations.list('t1')).toHaveLength(1)
    expect(state.approvals.listPending().map((a) => a.messageId)).toEqual(['q1'])
    state.tasks.delete('t1')
    expect(state.conversations.list('t1')).toEqual([])
    expect(state.approvals.list('t1')).toEqual([])
    state.close()
  })
})

describe('events lost with a crashed process', () => {
  it('a batch open at the crash makes the next start skip past its seqs and answer a resume from before them with gap', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    for (let i = 0; i < 5; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: `${i}` })
    state.flush()
    // Two more in a batch that is never written: the process dies here (the database is closed unflushed).
    hub.publish(session.id, OutputEvent, { taskId: 't', data: 'lost 6' })
    hub.publish(session.id, OutputEvent, { taskId: 't', data: 'lost 7' })
    state.db.close()
    state = openState(scratch.stateDir)
    const bus = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events).forSession(session.id)
    expect(bus.lastSeq).toBeGreaterThan(7)
    expect(bus.replay(7, state.epoch).status).toBe('gap')
    expect(bus.replay(5, state.epoch).status).toBe('gap')
    const next = bus.publish(OutputEvent, { taskId: 't', data: 'after' })
    expect(bus.replay(next.seq - 1, state.epoch)).toMatchObject({ status: 'ok', events: [{ seq: next.seq }] })
    state.close()
  })

  it('with every batch written, the next start continues the seq exactly and a resume is ok', () => {
    using scratch = scratchState()
    let state = openState(scratch.stateDir)
    const session = new MemorySessionStore(3600, 1000, undefined, state.sessions).create({ repo: '/repo' })
    const hub = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events)
    for (let i = 0; i < 5; i++) hub.publish(session.id, OutputEvent, { taskId: 't', data: `${i}` })
    state.flush()
    state.db.close()
    state = openState(scratch.stateDir)
    const bus = new EventHub(state.epoch, DEFAULT_RING_LIMITS, undefined, state.events).forSession(session.id)
    expect(bus.lastSeq).toBe(5)
    expect(bus.replay(5, state.epoch)).toEqual({ status: 'ok', events: [] })
    state.close()
  })
})
