import { describe, expect, it } from 'bun:test'
import { isIP } from 'node:net'
import { isIpLiteral } from '../../src/http/host'
import { makeTestApp } from '../fixtures/app'

describe('Host check', () => {
  it('refuses a Host that is not an IP, localhost or allowed', async () => {
    await using t = await makeTestApp()
    const response = await t.app.handle(new Request('http://evil.example/healthz'))
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: string }).error).toBe('host_not_allowed')
  })

  it('accepts IP literals, localhost and ALLOWED_HOSTS names', async () => {
    await using t = await makeTestApp({ env: { ALLOWED_HOSTS: 'devbox.lan', PUBLIC_URL: 'https://tunnel.example.com' } })
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', '192.168.1.20', 'devbox.lan:8080', 'tunnel.example.com']) {
      expect((await t.app.handle(new Request(`http://${host}/healthz`))).status).toBe(200)
    }
  })
})

describe('IP literals in a Host', () => {
  it('are judged as node:net judges them, which the check no longer imports at start-up', () => {
    const names = [
      '127.0.0.1', '0.0.0.0', '255.255.255.255', '192.168.1.20', '1.2.3.4', '10.0.0.1',
      '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.02.3.4', '0x7f.0.0.1', '127.1', '1.2.3.4.', '.1.2.3.4', '1..2.3',
      '127.0.0.1.nip.io', '1.2.3.4x', ' 1.2.3.4', '1.2.3.-4', '１.2.3.4', '', 'localhost', 'evil.example', '2130706433',
      '::1', '::', 'fe80::1', 'fe80::1%eth0', '::ffff:127.0.0.1', '2001:db8::8a2e:370:7334', ':::', '1::2::3', 'g::1', '::1:', 'evil.example:80',
    ]
    for (const name of names) expect([name, isIpLiteral(name)]).toEqual([name, isIP(name) !== 0])
  })
})

describe('CORS', () => {
  const preflight = (origin: string) =>
    new Request('http://localhost/api/tasks', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })

  it('answers a preflight from an allowed origin', async () => {
    await using t = await makeTestApp()
    const response = await t.app.handle(preflight('http://localhost:19006'))
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:19006')
  })

  it('exposes only WWW-Authenticate, never echoing the request header names', async () => {
    await using t = await makeTestApp()
    const response = await t.app.handle(preflight('http://localhost:19006'))
    expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate')
    const plain = await t.request('/healthz', { headers: { origin: 'http://localhost:19006', 'x-probe': '1' } })
    expect(plain.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate')
  })

  it('gives no Access-Control-Allow-Origin to another origin', async () => {
    await using t = await makeTestApp()
    const response = await t.app.handle(preflight('http://evil.example'))
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('errors', () => {
  it('answers an unknown route with 404 JSON', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/nope')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: 'not_found' })
  })

  it('answers /healthz without auth', async () => {
    await using t = await makeTestApp()
    const response = await t.app.handle(new Request('http://localhost/healthz'))
    expect(await response.json()).toMatchObject({ ok: true, version: expect.any(String), uptimeS: expect.any(Number) })
  })
})

describe('OpenAPI', () => {
  it('documents every route the app has', async () => {
    await using t = await makeTestApp()
    const spec = (await (await t.app.handle(new Request('http://localhost/swagger/json'))).json()) as { paths: Record<string, Record<string, unknown>> }
    const documented = new Set(Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)))
    const routes = t.app.routes
      .filter((r) => !r.path.startsWith('/swagger') && r.method !== 'OPTIONS' && r.method !== 'WS')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1')}`)
    expect(routes.length).toBeGreaterThan(3)
    for (const route of routes) expect(documented).toContain(route)
  })

  it('declares the bearer security scheme', async () => {
    await using t = await makeTestApp()
    const spec = (await (await t.app.handle(new Request('http://localhost/swagger/json'))).json()) as { components: { securitySchemes: Record<string, unknown> } }
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
  })
})
