import { Elysia, t } from 'elysia'
import { CSP_NONCE_PLACEHOLDER, loadWebBundle, type WebBundle, type WebFile } from './web-assets'

type WebRouteDeps = { publicUrl: URL | null }

const IMMUTABLE = 'public, max-age=31536000, immutable'
/** A Host header that is safe to repeat inside the CSP (no `;`, spaces or quotes). */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

/**
 * The page may only talk to the server it came from. `'self'` covers fetch; the WebSockets are
 * named explicitly because older Chromium and Safari do not extend `'self'` to ws:/wss:.
 * xterm.js writes its own <style> elements; they carry this response's nonce (src/web/style-nonce.ts),
 * so no inline style or script is allowed otherwise.
 */
export function contentSecurityPolicy(nonce: string, hostHeader: string | null, publicUrl: URL | null): string {
  const hosts = new Set<string>()
  if (publicUrl) hosts.add(publicUrl.host)
  if (hostHeader && PLAIN_HOST.test(hostHeader)) hosts.add(hostHeader.toLowerCase())
  const sockets = [...hosts].flatMap((host) => [`ws://${host}`, `wss://${host}`])
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${sockets.join(' ')}`.trim(),
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** `<base>/#pair=<base64url of the pairing JSON>`: a fragment, so the token never reaches a server or its log. */
export function browserPairingUrl(baseUrl: string, connection: unknown): string {
  const payload = Buffer.from(JSON.stringify(connection)).toString('base64url')
  return `${baseUrl.replace(/\/+$/, '')}/#pair=${payload}`
}

function unavailable(error: unknown): Response {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
  return Response.json(
    { error: 'web_unavailable', message: `The web cockpit is not built into this server (${message}); build it with bun run build.` },
    { status: 503 },
  )
}

/**
 * `GET /` and `GET /assets/*`: the web cockpit, no token needed to load it (everything it does
 * goes through the API with a session token). The HTML is never cached; the hashed assets are
 * cached for a year and sent gzipped to clients that accept it (compressed once, on first use).
 */
export function createWebRoutes({ publicUrl }: WebRouteDeps) {
  const gzipped = new Map<string, Uint8Array<ArrayBuffer>>()
  let indexed: { bundle: WebBundle; byPath: Map<string, WebFile> } | null = null

  const files = async () => {
    const bundle = await loadWebBundle()
    if (indexed?.bundle !== bundle) indexed = { bundle, byPath: new Map(bundle.files.map((file) => [file.path, file])) }
    return indexed.byPath
  }

  const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }

  return new Elysia({ name: 'routes.web' })
    .get(
      '/',
      async ({ request }) => {
        let page: WebFile | undefined
        try {
          page = (await files()).get('/index.html')
        } catch (error) {
          return unavailable(error)
        }
        if (!page) return unavailable(new Error('no index.html in the bundle'))
        const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64')
        return new Response(page.body.replaceAll(CSP_NONCE_PLACEHOLDER, nonce), {
          headers: {
            ...common,
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            'content-security-policy': contentSecurityPolicy(nonce, request.headers.get('host'), publicUrl),
            'x-frame-options': 'DENY',
          },
        })
      },
      { detail: { summary: 'The web cockpit (HTML; never cached; open it with the #pair= link the server prints)', tags: ['web'] } },
    )
    .get(
      '/assets/:name',
      async ({ params, request }) => {
        let file: WebFile | undefined
        try {
          file = (await files()).get(`/assets/${params.name}`)
        } catch (error) {
          return unavailable(error)
        }
        if (!file) return Response.json({ error: 'not_found', message: `No asset ${params.name}; reload the page.` }, { status: 404 })
        const headers: Record<string, string> = { ...common, 'content-type': file.contentType, 'cache-control': IMMUTABLE, vary: 'accept-encoding' }
        if (!/\bgzip\b/i.test(request.headers.get('accept-encoding') ?? '')) return new Response(file.body, { headers })
        let body = gzipped.get(file.path)
        if (!body) {
          body = Bun.gzipSync(file.body, { level: 9 }) as Uint8Array<ArrayBuffer>
          gzipped.set(file.path, body)
        }
        return new Response(body, { headers: { ...headers, 'content-encoding': 'gzip' } })
      },
      {
        params: t.Object({ name: t.String({ maxLength: 200 }) }),
        detail: { summary: "The web cockpit's hashed scripts and styles (cached for a year)", tags: ['web'] },
      },
    )
}
