/**
 * Credentials for the fuzzer: the real session token, and every way of getting it wrong. Each
 * variant says whether the server must accept it, so the fuzzer can check that a bad one never
 * reaches a handler.
 */
import { TEST_JWT_SECRET, TEST_PAIRING_TOKEN } from '../fixtures/app'
import { base64urlJson as base64url, forgeJwt } from '../fixtures/forged-jwt'

export type Credential = {
  name: string
  /** The Authorization header, or null for none. */
  header: string | null
  /** A `?token=` query value, or null for none. */
  query: string | null
  /** True when this credential names a live session the server must accept. */
  valid: boolean
}

function sign(claims: Record<string, unknown>, secret: string, alg = 'HS256', exp: number | null = Math.floor(Date.now() / 1000) + 3600): string {
  return forgeJwt({ claims: { ...claims, iat: Math.floor(Date.now() / 1000) }, secret, alg, exp })
}

/** Every credential variant for session routes, built for `sessionId` (whose real token is `token`). */
export async function sessionCredentials(sessionId: string, token: string, deletedSessionToken: string): Promise<Credential[]> {
  const now = Math.floor(Date.now() / 1000)
  const claims = { sid: sessionId }
  const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sid: sessionId, exp: now + 3600 })}.`
  const bearer = (name: string, value: string, valid = false): Credential => ({ name, header: `Bearer ${value}`, query: null, valid })
  const [header, payload] = token.split('.')
  return [
    bearer('valid', token, true),
    { name: 'valid lower-case scheme', header: `bearer ${token}`, query: null, valid: true },
    { name: 'valid in ?token=', header: null, query: token, valid: true },
    { name: 'missing', header: null, query: null, valid: false },
    { name: 'empty bearer', header: 'Bearer ', query: null, valid: false },
    { name: 'scheme only', header: 'Bearer', query: null, valid: false },
    { name: 'basic scheme', header: `Basic ${Buffer.from('user:pass').toString('base64')}`, query: null, valid: false },
    { name: 'two tokens', header: `Bearer ${token} ${token}`, query: null, valid: false },
    bearer('garbage', 'not-a-jwt'),
    bearer('three dots of garbage', 'a.b.c'),
    bearer('unicode garbage', '\u00e9\u00e8.\u00e0.\u00fc'),
    bearer('huge garbage', 'x'.repeat(64 * 1024)),
    bearer('alg none', none),
    bearer('alg none, signature kept', `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${token.split('.')[2]}`),
    bearer('other secret', sign(claims, 'another-secret-0123456789abcdef0123456789')),
    bearer('expired', sign(claims, TEST_JWT_SECRET, 'HS256', now - 60)),
    bearer('no exp', sign(claims, TEST_JWT_SECRET, 'HS256', null)),
    bearer('HS512 with the right secret', sign(claims, TEST_JWT_SECRET, 'HS512')),
    bearer('no sid claim', sign({ sub: sessionId }, TEST_JWT_SECRET)),
    bearer('sid is a number', sign({ sid: 42 }, TEST_JWT_SECRET)),
    bearer('unknown session', sign({ sid: '00000000-0000-0000-0000-000000000000' }, TEST_JWT_SECRET)),
    bearer('deleted session', deletedSessionToken),
    bearer('pairing token', TEST_PAIRING_TOKEN),
    bearer('payload swapped', `${header}.${base64url({ sid: 'other', exp: now + 3600 })}.${token.split('.')[2]}`),
    { name: 'bad ?token= with no header', header: null, query: 'garbage', valid: false },
  ]
}

/** Credentials for POST /api/session, which takes the pairing token. */
export function pairingCredentials(sessionToken: string): Credential[] {
  return [
    { name: 'pairing token', header: `Bearer ${TEST_PAIRING_TOKEN}`, query: null, valid: true },
    { name: 'missing', header: null, query: null, valid: false },
    { name: 'session token as pairing token', header: `Bearer ${sessionToken}`, query: null, valid: false },
    { name: 'DEV without DEV_MODE', header: 'Bearer DEV', query: null, valid: false },
    { name: 'pairing token prefix', header: `Bearer ${TEST_PAIRING_TOKEN.slice(0, -1)}`, query: null, valid: false },
    { name: 'pairing token in ?token=', header: null, query: TEST_PAIRING_TOKEN, valid: false },
    { name: 'garbage', header: 'Bearer \u00ff\u00fe', query: null, valid: false },
  ]
}
