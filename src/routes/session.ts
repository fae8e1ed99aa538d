import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard, type Pairing } from '../auth'
import { BadRequestError, NotFoundError } from '../errors'
import { checkRepository } from '../git'
import { resolveAllowedRepo } from '../policy/paths'
import type { Session, SessionStore } from '../session'
import { connectionInfo, ConnectionSchema } from './connection'

type SessionRouteDeps = {
  auth: AuthGuard
  pairing: Pairing
  sessions: SessionStore
  repoAllowlist: readonly string[]
  publicUrl: URL | null
  /** The session's tasks as `GET /api/tasks` lists them. */
  listTasks: (sessionId: string) => unknown[]
}

export const SessionSchema = t.Object({
  id: t.String(),
  sessionId: t.String(),
  repo: t.String(),
  label: t.Union([t.String(), t.Null()]),
  via: t.String(),
  createdAt: t.String({ format: 'date-time' }),
  expiresAt: t.String({ format: 'date-time' }),
  tasks: t.Array(t.Unknown()),
})

export const SessionRequestSchema = t.Object({
  repo: t.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of the repository, inside REPO_ALLOWLIST' }),
  label: t.Optional(t.Union([t.String({ maxLength: 200 }), t.Null()])),
  via: t.Optional(t.String({ maxLength: 64, description: 'How the phone reaches the server; only "direct" is served' })),
})

function ownSession(session: Session, id: string): Session {
  // Another session's id answers 404 like an unknown one, so ids do not leak.
  if (session.id !== id) throw new NotFoundError(`No session ${id}.`, 'session_not_found')
  return session
}

const security = [{ bearerAuth: [] }]

/**
 * A session's dates as ISO strings, made once per Date: toISOString was 4% of an authenticated
 * GET's JavaScript time under load, and a session's Dates are replaced (never changed) when it is
 * touched. Weak, so a replaced Date takes its string with it.
 */
const isoStrings = new WeakMap<Date, string>()
function isoString(date: Date): string {
  let text = isoStrings.get(date)
  if (text === undefined) {
    text = date.toISOString()
    isoStrings.set(date, text)
  }
  return text
}

export function createSessionRoutes(deps: SessionRouteDeps) {
  const { auth, pairing, sessions } = deps
  const pairingRoutes = new Elysia({ name: 'routes.session.pairing', prefix: '/api/session' }).use(pairing).post(
    '/',
    async ({ body, issueSessionToken, request, set }) => {
      const via = body.via ?? 'direct'
      if (via !== 'direct') throw new BadRequestError(`via "${via}" is not supported; this server serves "direct" only.`, 'unsupported_via')
      const repo = resolveAllowedRepo(body.repo, deps.repoAllowlist)
      // Refused here, not at the first git route: every task on a folder without git fails later.
      checkRepository(repo)
      const session = sessions.create({ repo, label: body.label ?? null, via })
      const token = await issueSessionToken(session)
      set.status = 201
      return connectionInfo(session, token, deps.publicUrl, request)
    },
    {
      body: SessionRequestSchema,
      response: { 201: ConnectionSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema },
      detail: {
        summary: 'Pair: start a session on a repo (pairing token as bearer); the answer is also the QR payload',
        tags: ['session'],
        security: [{ pairingToken: [] }],
      },
    },
  )

  const sessionRoutes = new Elysia({ name: 'routes.session', prefix: '/api/session' })
    .use(auth)
    .get(
      '/:id',
      ({ session, params }) => {
        const own = ownSession(session, params.id)
        return {
          id: own.id,
          sessionId: own.id,
          repo: own.repo,
          label: own.label,
          via: own.via,
          createdAt: isoString(own.createdAt),
          expiresAt: isoString(own.expiresAt),
          tasks: deps.listTasks(own.id),
        }
      },
      {
        params: t.Object({ id: t.String({ maxLength: 200 }) }),
        response: { 200: SessionSchema, 401: ErrorSchema, 404: ErrorSchema },
        detail: { summary: 'The session, with its tasks', tags: ['session'], security },
      },
    )
    .delete(
      '/:id',
      async ({ session, params }) => {
        const own = ownSession(session, params.id)
        await sessions.end(own.id, 'deleted')
        return { ok: true as const, sessionId: own.id }
      },
      {
        params: t.Object({ id: t.String({ maxLength: 200 }) }),
        response: { 200: t.Object({ ok: t.Literal(true), sessionId: t.String() }), 401: ErrorSchema, 404: ErrorSchema },
        detail: { summary: 'End the session: its token stops working, its terminals, commands and tasks stop', tags: ['session'], security },
      },
    )

  return new Elysia({ name: 'routes.session.all' }).use(pairingRoutes).use(sessionRoutes)
}
