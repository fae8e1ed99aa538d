import { Elysia, t } from 'elysia'
import { UnauthorizedError } from '../errors'
import type { Session, SessionStore } from '../session'
import { bearerToken, secretsEqual } from './tokens'
import { SESSION_CLAIM, sessionJwtPlugin, signSessionToken } from './issue'

export const ErrorSchema = t.Object({ error: t.String(), message: t.String() }, { description: 'Every error: a machine code and a sentence a person can act on.' })

type AuthDeps = { sessions: SessionStore; jwtSecret: string }

/**
 * The one way to make a 401: an UnauthorizedError's body, with the `WWW-Authenticate: Bearer`
 * header a 401 must carry. Guards return it through Elysia's `status(401, …)` (not throw it) so
 * the 401 is part of every guarded route's type for Eden; a thrown UnauthorizedError gets the
 * same answer from http/errors.ts.
 */
export function unauthorized(set: { headers: Record<string, string | number> }, message: string) {
  const error = new UnauthorizedError(message)
  set.headers['www-authenticate'] = 'Bearer'
  return { error: error.kind, message: error.message }
}

/**
 * Tokens already verified, so a busy client does not pay an HMAC per request. Only the exact
 * token string is remembered with its own `exp`; the session is still looked up every time, so
 * deleting a session revokes its token at once. Bounded: the oldest entry leaves first.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { sessionId: string; expiresAtMs: number }>()

  constructor(private readonly max = 4096) {}

  get(token: string): string | undefined {
    const entry = this.entries.get(token)
    if (!entry) return undefined
    if (entry.expiresAtMs <= Date.now()) {
      this.entries.delete(token)
      return undefined
    }
    return entry.sessionId
  }

  remember(token: string, sessionId: string, expSeconds: number): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(token, { sessionId, expiresAtMs: expSeconds * 1000 })
  }
}

/**
 * The token of `Authorization: Bearer` or else `?token=`, read from the request: Elysia reads
 * hooks' parameters, and one hook anywhere that takes `headers` has every request header copied
 * into an object before every route runs (measured: about 1 µs per request).
 */
function sessionToken(request: Request, query: Record<string, unknown> | undefined): string | null {
  const queryToken = typeof query?.token === 'string' ? query.token : null
  return bearerToken(request.headers.get('authorization')) ?? queryToken
}

/**
 * The one guard every session route and WebSocket uses. It reads the session JWT from
 * `Authorization: Bearer` or `?token=` (Eden and browsers cannot set headers on a WebSocket),
 * accepts HS256 only, requires `exp` and the session claim, and requires the session to still
 * exist, so deleting a session revokes its token at once.
 */
export function createAuthGuard({ sessions, jwtSecret }: AuthDeps) {
  const verified = new VerifiedTokens()
  return new Elysia({ name: 'auth.session' })
    .use(sessionJwtPlugin(jwtSecret))
    .derive({ as: 'scoped' }, async ({ sessionJwt, request, query, set, status }) => {
      const token = sessionToken(request, query)
      if (!token) return status(401, unauthorized(set, 'Send the session token as "Authorization: Bearer <token>".'))
      let sessionId = verified.get(token)
      if (sessionId === undefined) {
        const claims = await sessionJwt.verify(token, { algorithms: ['HS256'], requiredClaims: ['exp', SESSION_CLAIM] })
        const claimed = claims ? claims[SESSION_CLAIM] : undefined
        if (!claims || typeof claimed !== 'string' || typeof claims.exp !== 'number') {
          return status(401, unauthorized(set, 'The token is invalid or expired; pair again with POST /api/session.'))
        }
        sessionId = claimed
        verified.remember(token, claimed, claims.exp)
      }
      const session = sessions.get(sessionId)
      if (!session) return status(401, unauthorized(set, 'The session of this token has ended; pair again with POST /api/session.'))
      sessions.touch(session.id)
      return { session }
    })
}

export type AuthGuard = ReturnType<typeof createAuthGuard>

/** Verifies the pairing token and issues session tokens; used only by `POST /api/session`. */
export function createPairing({ jwtSecret, pairingToken, devMode }: { jwtSecret: string; pairingToken: string; devMode: boolean }) {
  return new Elysia({ name: 'auth.pairing' })
    .use(sessionJwtPlugin(jwtSecret))
    .derive({ as: 'scoped' }, ({ sessionJwt, request, set, status }) => {
      const token = bearerToken(request.headers.get('authorization'))
      const valid = token !== null && (secretsEqual(token, pairingToken) || (devMode && secretsEqual(token, 'DEV')))
      if (!valid) return status(401, unauthorized(set, 'POST /api/session needs "Authorization: Bearer <pairing token>" as printed at start-up.'))
      return {
        issueSessionToken: (session: Session) => signSessionToken(sessionJwt, session),
      }
    })
}

export type Pairing = ReturnType<typeof createPairing>
