import type { Database, Statement } from 'bun:sqlite'
import type { Session, SessionPersistence, Via } from '../session'
import type { WriteBehind } from './write-behind'

type SessionRow = {
  id: string
  repo: string
  label: string | null
  via: string
  created_at: number
  token_expires_at: number
  expires_at: number
}

/**
 * Sessions in state.db. A new session and an ended one are written at once (the client is told
 * next); activity (a sliding expiry moved forward on every request) is written behind, coalesced
 * per session: a crash loses at most the last batch of it, so a session may expire up to that
 * much earlier than it would have, never later.
 */
export class SqliteSessionRows implements SessionPersistence {
  private readonly touchedSessions = new Map<string, Session>()
  private readonly insertRow: Statement
  private readonly deleteRow: Statement
  private readonly touchRow: Statement

  constructor(
    private readonly db: Database,
    private readonly writeBehind: WriteBehind,
  ) {
    this.insertRow = db.query(
      `INSERT INTO sessions (id, repo, label, via, created_at, token_expires_at, expires_at, last_activity_at)
       VALUES ($id, $repo, $label, $via, $createdAt, $tokenExpiresAt, $expiresAt, $lastActivityAt)`,
    )
    this.deleteRow = db.query('DELETE FROM sessions WHERE id = ?')
    this.touchRow = db.query('UPDATE sessions SET expires_at = ?, last_activity_at = ? WHERE id = ?')
    writeBehind.register(() => this.flushTouches())
  }

  load(): Session[] {
    const rows = this.db.query('SELECT id, repo, label, via, created_at, token_expires_at, expires_at FROM sessions ORDER BY created_at').all() as SessionRow[]
    return rows.map((row) => ({
      id: row.id,
      repo: row.repo,
      label: row.label,
      via: row.via as Via,
      createdAt: new Date(row.created_at),
      tokenExpiresAt: new Date(row.token_expires_at),
      expiresAt: new Date(row.expires_at),
    }))
  }

  insert(session: Session): void {
    this.insertRow.run({
      id: session.id,
      repo: session.repo,
      label: session.label,
      via: session.via,
      createdAt: session.createdAt.getTime(),
      tokenExpiresAt: session.tokenExpiresAt.getTime(),
      expiresAt: session.expiresAt.getTime(),
      lastActivityAt: session.createdAt.getTime(),
    })
  }

  touched(session: Session): void {
    this.touchedSessions.set(session.id, session)
    this.writeBehind.schedule()
  }

  remove(id: string): void {
    this.touchedSessions.delete(id)
    // Its tasks, patches, conversations, approvals and events go with it (ON DELETE CASCADE).
    this.deleteRow.run(id)
  }

  private flushTouches(): void {
    const now = Date.now()
    for (const session of this.touchedSessions.values()) this.touchRow.run(session.expiresAt.getTime(), now, session.id)
    this.touchedSessions.clear()
  }
}
