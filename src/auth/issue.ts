import { SignJWT } from 'jose'
import type { Session } from '../session'

export const SESSION_CLAIM = 'sid'

/**
 * Signs a session token: HS256, the session id claim and `exp` equal to the session's hard end.
 * One signer for POST /api/session and the start-up QR code, so both carry the same claims.
 */
export function signSessionToken(jwtSecret: string, session: Session): Promise<string> {
  return new SignJWT({ [SESSION_CLAIM]: session.id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(session.tokenExpiresAt.getTime() / 1000))
    .sign(new TextEncoder().encode(jwtSecret))
}
