import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openState, SCHEMA_VERSION, StateError } from '../../src/store'
import { MIGRATIONS } from '../../src/store/schema'
import { scratchState } from './helpers'

describe('state.db', () => {
  it('is made in a 0700 STATE_DIR, 0600 itself, in WAL mode with foreign keys on and the current schema version', () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    try {
      expect(statSync(scratch.stateDir).mode & 0o777).toBe(0o700)
      expect(statSync(join(scratch.stateDir, 'state.db')).mode & 0o777).toBe(0o600)
      expect(state.db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      expect(state.db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
      expect(state.db.query('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION })
    } finally {
      state.close()
    }
  })

  it('is made whole beside its place: nothing but it and the pid file is left, and it starts with its epoch', () => {
    using scratch = scratchState()
    const state = openState(scratch.stateDir)
    try {
      expect(readdirSync(scratch.stateDir).sort()).toEqual(['server.pid', 'state.db', 'state.db-wal'])
      expect(state.db.query("SELECT value FROM meta WHERE key = 'epoch'").get()).toEqual({ value: state.epoch })
    } finally {
      state.close()
    }
  })

  it('is made whole over a half-made file an earlier start of the same pid left', () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o700 })
    writeFileSync(join(scratch.stateDir, `state.db.new-${process.pid}`), 'half made')
    const state = openState(scratch.stateDir)
    try {
      expect(readdirSync(scratch.stateDir).sort()).toEqual(['server.pid', 'state.db', 'state.db-wal'])
      expect(state.db.query('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION })
    } finally {
      state.close()
    }
  })

  it('removes what starts killed mid-way left, and not what a running process is making', async () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o700 })
    // A pid that no longer runs (the child's, reaped) and one that does (the child still running).
    const ended = Bun.spawn(['true'])
    await ended.exited
    const running = Bun.spawn(['sleep', '30'])
    try {
      const strays = [`state.db.new-${ended.pid}`, `state.db.new-${ended.pid}-journal`, `.write-test-${ended.pid}`]
      const kept = [`state.db.new-${running.pid}`, 'state.db.new-notes.txt']
      for (const name of [...strays, ...kept]) writeFileSync(join(scratch.stateDir, name), 'left behind')
      const state = openState(scratch.stateDir)
      try {
        expect(readdirSync(scratch.stateDir).sort()).toEqual(['server.pid', 'state.db', 'state.db-wal', ...kept].sort())
      } finally {
        state.close()
      }
    } finally {
      running.kill()
    }
  })

  it('tightens an existing STATE_DIR to 0700', () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o755 })
    openState(scratch.stateDir).close()
    expect(statSync(scratch.stateDir).mode & 0o777).toBe(0o700)
  })

  it('keeps the epoch across opens', () => {
    using scratch = scratchState()
    const first = openState(scratch.stateDir)
    const epoch = first.epoch
    first.close()
    const second = openState(scratch.stateDir)
    expect(second.epoch).toBe(epoch)
    second.close()
  })

  it('migrates a version 1 database, keeping its rows, and finds its unfinished tasks through the new index', () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o700 })
    const v1 = new Database(join(scratch.stateDir, 'state.db'), { create: true })
    v1.exec(MIGRATIONS[0]!)
    v1.exec('PRAGMA user_version = 1')
    v1.exec("INSERT INTO sessions VALUES ('s1', '/repo', NULL, 'direct', 1, 9999999999999, 9999999999999, 1)")
    const task = (id: string, ord: number, status: string) =>
      v1.exec(`INSERT INTO tasks (id, session_id, ord, instruction, agent, status, created_at, started_at, updated_at) VALUES ('${id}', 's1', ${ord}, 'x', 'mock', '${status}', 'a', 'a', 'a')`)
    task('done', 1, 'completed')
    task('running', 2, 'running')
    task('pending', 3, 'pending')
    v1.close()
    const state = openState(scratch.stateDir)
    try {
      expect(state.db.query('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION })
      const plan = state.db.query("EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE status IN ('pending', 'running') ORDER BY ord DESC").all() as { detail: string }[]
      expect(plan.map((step) => step.detail).join('\n')).toContain('tasks_unfinished')
      expect(state.tasks.listUnfinished().map((t) => t.id)).toEqual(['pending', 'running'])
      expect(state.tasks.get('done')?.status).toBe('completed')
    } finally {
      state.close()
    }
  })

  it('migrates a version 2 database to a rowid event_batches, keeping its kept events for resume', () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o700 })
    const v2 = new Database(join(scratch.stateDir, 'state.db'), { create: true })
    v2.exec(MIGRATIONS[0]!)
    v2.exec(MIGRATIONS[1]!)
    v2.exec('PRAGMA user_version = 2')
    v2.exec("INSERT INTO sessions VALUES ('s1', '/repo', NULL, 'direct', 1, 9999999999999, 9999999999999, 1)")
    const batch = (first: number, last: number) =>
      JSON.stringify(Array.from({ length: last - first + 1 }, (_, i) => ({ seq: first + i, type: 'output', ts: 'a', data: `line ${first + i}` })))
    v2.query('INSERT INTO event_batches VALUES (?, ?, ?, ?)').run('s1', 1, 3, batch(1, 3))
    v2.query('INSERT INTO event_batches VALUES (?, ?, ?, ?)').run('s1', 4, 5, batch(4, 5))
    v2.exec("INSERT INTO event_seqs VALUES ('s1', 5, NULL)")
    v2.close()
    const state = openState(scratch.stateDir)
    try {
      expect(state.db.query('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION })
      const table = state.db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'event_batches'").get() as { sql: string }
      expect(table.sql).not.toContain('WITHOUT ROWID')
      const kept = state.events.forSession('s1').load()
      expect(kept.lastSeq).toBe(5)
      expect(kept.events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5])
      // The key and the cascade came along: a batch replaces its namesake, and a session's rows go with it.
      state.db.query('INSERT OR REPLACE INTO event_batches VALUES (?, ?, ?, ?)').run('s1', 4, 5, batch(4, 5))
      expect(state.db.query('SELECT COUNT(*) AS n FROM event_batches').get()).toEqual({ n: 2 })
      state.db.exec("DELETE FROM sessions WHERE id = 's1'")
      expect(state.db.query('SELECT COUNT(*) AS n FROM event_batches').get()).toEqual({ n: 0 })
    } finally {
      state.close()
    }
  })

  it('refuses a database from a newer schema with one line naming both versions', () => {
    using scratch = scratchState()
    openState(scratch.stateDir).close()
    const db = new Database(join(scratch.stateDir, 'state.db'))
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`)
    db.close()
    let error: unknown
    try {
      openState(scratch.stateDir).close()
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StateError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 5}`)
    expect(message).toContain(`this server's ${SCHEMA_VERSION}`)
  })

  it('refuses a second opener of the same STATE_DIR while the first holds it, and lets one in after close', () => {
    using scratch = scratchState()
    const first = openState(scratch.stateDir)
    expect(() => openState(scratch.stateDir)).toThrow(/is in use by another Cockpit Coder server \(pid \d+\)/)
    first.close()
    openState(scratch.stateDir).close()
  })

  it('stops with one line naming STATE_DIR when it cannot be written', () => {
    using scratch = scratchState()
    writeFileSync(join(scratch.root, 'file'), 'not a directory')
    const stateDir = join(scratch.root, 'file', 'state')
    expect(() => openState(stateDir)).toThrow(`STATE_DIR: ${stateDir} is not writable (ENOTDIR); set STATE_DIR to a directory this server can write.`)
  })

  it('refuses a state.db that is not a database with one line', () => {
    using scratch = scratchState()
    mkdirSync(scratch.stateDir, { mode: 0o700 })
    writeFileSync(join(scratch.stateDir, 'state.db'), 'this is not sqlite '.repeat(100))
    expect(() => openState(scratch.stateDir)).toThrow(/^STATE_DIR: .*state\.db is not a usable database/)
  })
})
