/**
 * How the page is served (headers, caching, compression, budget) and who may open its
 * WebSockets: the page's own origin yes, any other browser Origin no.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { contentSecurityPolicy } from '../../src/routes/web'
import { loadWebBundle } from '../../src/routes/web-assets'
import { makeTestApp, type TestApp } from '../fixtures/app'

/** The budget: all of the page's JavaScript, xterm.js included, after gzip. */
const JS_BUDGET_GZIP_BYTES = 250 * 1024

let app: TestApp

beforeAll(async () => {
  app = await makeTestApp()
})

afterAll(async () => {
  await app?.[Symbol.asyncDispose]()
})

async function page(host = 'localhost:8080'): Promise<{ response: Response; html: string; assets: string[] }> {
  const response = await app.app.handle(new Request('http://localhost/', { headers: { host } }))
  const html = await response.text()
  const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]!)
  return { response, html, assets }
}

describe('serving the web cockpit', () => {
  it('serves the HTML uncached, with a CSP that allows no inline script and connects only to this server', async () => {
    const { response, html } = await page('127.0.0.1:8080')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self';")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;")
    expect(csp).toContain("default-src 'none'")
    // No script in the HTML itself: only module scripts from ./assets.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(html).not.toContain('__COCKPIT_CSP_NONCE__')
  })

  it('gives every response its own style nonce, the one in the page', async () => {
    const first = await page()
    const second = await page()
    const nonce = (r: Response) => /'nonce-([^']+)'/.exec(r.headers.get('content-security-policy') ?? '')?.[1]
    expect(nonce(first.response)).toBeTruthy()
    expect(nonce(first.response)).not.toBe(nonce(second.response))
    expect(first.html).toContain(`content="${nonce(first.response)}"`)
  })

  it('does not repeat a Host header with CSP syntax in it', () => {
    const csp = contentSecurityPolicy('n', "127.0.0.1:8080; script-src 'unsafe-inline'", null)
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).toContain("connect-src 'self';")
  })

  it('names PUBLIC_URL in connect-src', () => {
    expect(contentSecurityPolicy('n', null, new URL('https://cockpit.example.com'))).toContain("connect-src 'self' ws://cockpit.example.com wss://cockpit.example.com;")
  })

  it('serves hashed assets for a year, gzipped when asked, within the JavaScript budget', async () => {
    const { assets: linked } = await page()
    expect(linked.some((asset) => asset.endsWith('.js'))).toBe(true)
    expect(linked.some((asset) => asset.endsWith('.css'))).toBe(true)
    // Every asset, the chunks loaded later (xterm.js with the Terminal) included.
    const assets = (await loadWebBundle()).files.filter((file) => file.path !== '/index.html').map((file) => file.path.slice(1))
    expect(assets.length).toBeGreaterThan(linked.length)
    expect(assets.some((asset) => asset.startsWith('assets/xterm-'))).toBe(true)
    let jsGzip = 0
    for (const asset of assets) {
      expect(asset).toMatch(/^assets\/[\w-]+-[a-z0-9]{8}\.(js|css)$/)
      const plain = await app.app.handle(new Request(`http://localhost/${asset}`))
      expect(plain.status).toBe(200)
      expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(plain.headers.get('content-encoding')).toBeNull()
      const text = await plain.text()
      const zipped = await app.app.handle(new Request(`http://localhost/${asset}`, { headers: { 'accept-encoding': 'gzip, br' } }))
      expect(zipped.headers.get('content-encoding')).toBe('gzip')
      const bytes = new Uint8Array(await zipped.arrayBuffer())
      expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(text)
      if (asset.endsWith('.js')) jsGzip += bytes.length
    }
    expect(jsGzip).toBeGreaterThan(0)
    expect(jsGzip).toBeLessThanOrEqual(JS_BUDGET_GZIP_BYTES)
  })

  it('answers an unknown asset with 404 JSON', async () => {
    const response = await app.app.handle(new Request('http://localhost/assets/main-00000000.js'))
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: 'not_found' })
  })

  it('serves the page without a token and keeps the API behind one', async () => {
    expect((await app.app.handle(new Request('http://localhost/'))).status).toBe(200)
    const api = await app.app.handle(new Request('http://localhost/api/tasks'))
    expect(api.status).toBe(401)
  })

  it('lists the command allowlist for a session, and only with a token', async () => {
    const listed = await app.request('/api/cmd/allowlist')
    expect(listed.status).toBe(200)
    expect(await listed.json()).toEqual({ allowlist: [...app.config.cmdAllowlist] })
    const anonymous = await app.app.handle(new Request('http://localhost/api/cmd/allowlist'))
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ error: 'unauthorized' })
  })
})

describe("the page's own origin and the WebSocket Origin check", () => {
  let wsUrl: string
  let port: number

  beforeAll(() => {
    ;({ wsUrl, port } = app.listen())
  })

  /** Opens /ws/events with this Origin and Host; resolves with the first frame or the refusal. */
  function connect(origin: string, host = `127.0.0.1:${port}`): Promise<{ opened: boolean; first?: string }> {
    const url = `${wsUrl}/ws/events?sessionId=${app.sessionId}&token=${app.token}`
    return new Promise((resolve) => {
      const socket = new WebSocket(url, { headers: { origin, host } } as unknown as string[])
      socket.onmessage = (message) => {
        resolve({ opened: true, first: String(message.data) })
        socket.close()
      }
      socket.onerror = () => resolve({ opened: false })
      socket.onclose = () => resolve({ opened: false })
    })
  }

  it('lets the page served from this host open /ws/events', async () => {
    const result = await connect(`http://127.0.0.1:${port}`)
    expect(result.opened).toBe(true)
    expect(JSON.parse(result.first!)).toMatchObject({ type: 'resume' })
  })

  it('lets the page served as localhost open it too', async () => {
    expect((await connect(`http://localhost:${port}`, `localhost:${port}`)).opened).toBe(true)
  })

  it('refuses another site, and the same host on another port', async () => {
    expect((await connect('https://evil.example')).opened).toBe(false)
    expect((await connect(`http://127.0.0.1:${port + 1}`)).opened).toBe(false)
    expect((await connect(`http://localhost:${port}`)).opened).toBe(false)
  })

  it('refuses another site with 403 JSON', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/ws/events?sessionId=${app.sessionId}&token=${app.token}`, {
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', origin: 'https://evil.example' },
    })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: 'origin_not_allowed' })
  })
})
