import { t } from 'elysia'
import type { Session } from '../session'

export const ConnectionSchema = t.Object({
  sessionId: t.String(),
  token: t.String(),
  ws: t.Object({ pty: t.String(), events: t.String() }),
  apiBase: t.String({ description: 'Base URL for the HTTP API (routes are under /api)' }),
  expiresAt: t.String({ format: 'date-time' }),
})

/**
 * The base URL clients must use: PUBLIC_URL when set (a tunnel or proxy terminates TLS), else
 * what the request itself was addressed to.
 */
export function publicBase(publicUrl: URL | null, request: Request | null, fallback?: string): URL {
  if (publicUrl) return new URL(publicUrl.href.replace(/\/+$/, ''))
  if (request) {
    const url = new URL(request.url)
    const host = request.headers.get('host')
    return new URL(`${url.protocol}//${host ?? url.host}`)
  }
  return new URL(fallback ?? 'http://127.0.0.1')
}

/** What `POST /api/session` answers and the pairing QR code carries. */
export function connectionInfo(session: Session, token: string, publicUrl: URL | null, request: Request | null, fallback?: string) {
  const base = publicBase(publicUrl, request, fallback)
  const path = base.pathname === '/' ? '' : base.pathname
  const wsProtocol = base.protocol === 'https:' ? 'wss:' : 'ws:'
  return {
    sessionId: session.id,
    token,
    ws: { pty: `${wsProtocol}//${base.host}${path}/ws/pty`, events: `${wsProtocol}//${base.host}${path}/ws/events` },
    apiBase: `${base.protocol}//${base.host}${path}`,
    expiresAt: session.tokenExpiresAt.toISOString(),
  }
}
