import { TooManyRequestsError } from '../errors'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'

export type Via = 'direct'

export type Session = {
  readonly id: string
  readonly repo: string
  readonly label: string | null
  readonly via: Via
  readonly createdAt: Date
  /** Hard end: the token's `exp`. Activity never extends the session past it. */
  readonly tokenExpiresAt: Date
  /** Sliding end, moved forward by activity, capped at tokenExpiresAt. */
  expiresAt: Date
}

export type EndReason = 'deleted' | 'expired' | 'shutdown'

/** Something a session started (a terminal, a task, a command) that must stop when it ends. */
export type SessionCleanup = (session: Session, reason: EndReason) => void | Promise<void>

export type NewSession = { repo: string; label?: string | null; via?: Via }

/**
 * Where sessions live: in memory for reads (every request looks its session up), kept in
 * STATE_DIR/state.db by a SessionPersistence (src/store/) so they outlive the process. Routes and
 * layers never know which one they talk to.
 */
export interface SessionStore {
  create(input: NewSession): Session
  get(id: string): Session | undefined
  /** Extends the sliding expiry after authenticated activity. */
  touch(id: string): void
  end(id: string, reason: EndReason): Promise<boolean>
  list(): Session[]
  /** Registers work every session end must run (terminals, tasks, commands, event buses). */
  onEnd(cleanup: SessionCleanup): void
  /** Ends expired sessions; returns how many. */
  sweep(now?: Date): Promise<number>
  endAll(reason: EndReason): Promise<void>
}

/**
 * Where a session store keeps its sessions beyond the process. `insert` and `remove` must be
 * durable when they return (a client is about to be told); `touched` may be written behind.
 */
export interface SessionPersistence {
  load(): Session[]
  insert(session: Session): void
  touched(session: Session): void
  remove(id: string): void
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>()
  private readonly cleanups: SessionCleanup[] = []

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxSessions = 1000,
    private readonly logger: Logger = STANDALONE_LOGGER,
    private readonly persistence: SessionPersistence | null = null,
  ) {
    for (const session of persistence?.load() ?? []) this.sessions.set(session.id, session)
  }

  create(input: NewSession): Session {
    if (this.sessions.size >= this.maxSessions) {
      throw new TooManyRequestsError(`This server holds ${this.maxSessions} sessions already; end some with DELETE /api/session/{id} first.`)
    }
    const now = new Date()
    // JWT exp has whole-second precision; keep the session's hard end on the same second.
    const hardEnd = new Date(Math.floor(now.getTime() / 1000 + this.ttlSeconds) * 1000)
    const session: Session = {
      id: crypto.randomUUID(),
      repo: input.repo,
      label: input.label ?? null,
      via: input.via ?? 'direct',
      createdAt: now,
      tokenExpiresAt: hardEnd,
      expiresAt: hardEnd,
    }
    this.persistence?.insert(session)
    this.sessions.set(session.id, session)
    return session
  }

  get(id: string): Session | undefined {
    const session = this.sessions.get(id)
    if (session && session.expiresAt.getTime() <= Date.now()) return undefined
    return session
  }

  touch(id: string): void {
    const session = this.sessions.get(id)
    if (!session) return
    const expiresAtMs = Math.min(Date.now() + this.ttlSeconds * 1000, session.tokenExpiresAt.getTime())
    // Every authenticated request comes here; once the cap is reached the expiry stays put, so no new Date.
    if (expiresAtMs !== session.expiresAt.getTime()) session.expiresAt = new Date(expiresAtMs)
    this.persistence?.touched(session)
  }

  list(): Session[] {
    return [...this.sessions.values()]
  }

  onEnd(cleanup: SessionCleanup): void {
    this.cleanups.push(cleanup)
  }

  async end(id: string, reason: EndReason): Promise<boolean> {
    const session = this.sessions.get(id)
    if (!session) return false
    // A shutdown keeps the record: the session goes on after a restart.
    if (reason !== 'shutdown') this.persistence?.remove(id)
    this.sessions.delete(id)
    const results = await Promise.allSettled(this.cleanups.map(async (cleanup) => cleanup(session, reason)))
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error('session clean-up failed', { sessionId: id, error: describeError(result.reason) })
    }
    return true
  }

  async sweep(now = new Date()): Promise<number> {
    const expired = [...this.sessions.values()].filter((s) => s.expiresAt.getTime() <= now.getTime())
    await Promise.all(expired.map((s) => this.end(s.id, 'expired')))
    return expired.length
  }

  async endAll(reason: EndReason): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, reason)))
  }
}
