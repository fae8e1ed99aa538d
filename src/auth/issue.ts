import { jwt } from '@elysiajs/jwt'
import type { Session } from '../session'

export const SESSION_CLAIM = 'sid'

/**
 * The one JWT configuration for session tokens (HS256, the server's secret). The guard verifies
 * and the pairing route signs through the same plugin, so one library decides both sides.
 */
export function sessionJwtPlugin(jwtSecret: string) {
  return jwt({ name: 'sessionJwt', secret: jwtSecret, alg: 'HS256' })
}

/** The plugin's `sign`/`verify` pair, for signing outside a request (the start-up QR code). */
export type SessionJwt = ReturnType<typeof sessionJwtPlugin>['decorator']['sessionJwt']

export function sessionJwtOutsideRequests(jwtSecret: string): SessionJwt {
  return sessionJwtPlugin(jwtSecret).decorator.sessionJwt
}

/**
 * Signs a session token: HS256, the session id claim, `iat`, and `exp` equal to the session's
 * hard end. One signer for POST /api/session and the start-up QR code, so both carry the same claims.
 */
export function signSessionToken(sessionJwt: SessionJwt, session: Session): Promise<string> {
  return sessionJwt.sign({ [SESSION_CLAIM]: session.id, exp: Math.floor(session.tokenExpiresAt.getTime() / 1000) })
}
