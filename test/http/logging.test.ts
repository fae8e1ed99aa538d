import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { Config } from '../../src/config'
import { createApp } from '../../src/app'
import { createLogger } from '../../src/logger'
import { createServices } from '../../src/services'
import { makeTestApp, TEST_PAIRING_TOKEN } from '../fixtures/app'

/** The fixture's config on a STATE_DIR of its own: the fixture's services hold theirs (one server per STATE_DIR). */
function ownStateDir(config: Config, root: string): Config {
  return Object.freeze({ ...config, stateDir: join(root, 'logged-state') })
}

async function loggedApp() {
  const t = await makeTestApp()
  const lines: string[] = []
  const services = createServices(ownStateDir(t.config, t.root), { logger: createLogger('info', 'json', (line) => lines.push(line)) })
  const app = createApp(services)
  return {
    lines,
    app,
    t,
    async [Symbol.asyncDispose]() {
      await services.shutdown()
      await t[Symbol.asyncDispose]()
    },
  }
}

async function settle() {
  await Bun.sleep(20)
}

describe('request log', () => {
  it('writes one JSON line per request with method, path, status and duration', async () => {
    await using l = await loggedApp()
    await l.app.handle(new Request('http://localhost/healthz'))
    await settle()
    const entries = l.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.msg === 'request')
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ level: 'info', method: 'GET', path: '/healthz', status: 200, ms: expect.any(Number) })
  })

  it('logs the real status of an error answer', async () => {
    await using l = await loggedApp()
    await l.app.handle(new Request('http://localhost/api/session/x', { headers: { authorization: 'Bearer nope' } }))
    await l.app.handle(new Request('http://localhost/api/nothing-here'))
    await l.app.handle(new Request('http://localhost/api/session', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }))
    await l.app.handle(new Request('http://localhost/api/session', { method: 'POST', body: '{' }))
    await settle()
    const statuses = l.lines.map((line) => JSON.parse(line) as { status?: number }).map((e) => e.status)
    expect(statuses).toEqual([401, 404, 413, 400])
  })

  it('never writes a token from the query string', async () => {
    await using l = await loggedApp()
    await l.app.handle(new Request(`http://localhost/api/session/x?token=${l.t.token}&x=1`))
    await settle()
    expect(l.lines.join('\n')).not.toContain(l.t.token)
    expect(l.lines.join('\n')).toContain('token=[redacted]')
  })

  it('writes nothing at LOG_LEVEL=warn for a successful request', async () => {
    await using t = await makeTestApp()
    const lines: string[] = []
    const services = createServices(ownStateDir(t.config, t.root), { logger: createLogger('warn', 'text', (line) => lines.push(line)) })
    await createApp(services).handle(new Request('http://localhost/healthz'))
    await settle()
    await services.shutdown()
    expect(lines).toEqual([])
  })
  it('logs a WebSocket upgrade with the status its client saw: 101 when accepted, else the refusal', async () => {
    await using l = await loggedApp()
    const paired = await l.app.handle(
      new Request('http://localhost/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body: JSON.stringify({ repo: l.t.repo }) }),
    )
    const { sessionId, token } = (await paired.json()) as { sessionId: string; token: string }
    l.app.listen({ hostname: '127.0.0.1', port: 0 })
    try {
      const base = `ws://127.0.0.1:${l.app.server!.port}/ws/events?sessionId=${sessionId}`
      /** Opens a socket and resolves when it opened (true) or failed (false). */
      const attempt = (url: string, headers?: Record<string, string>) =>
        new Promise<boolean>((resolve) => {
          const ws = new WebSocket(url, headers ? ({ headers } as unknown as string[]) : undefined)
          ws.onopen = () => {
            ws.close()
            resolve(true)
          }
          ws.onerror = () => resolve(false)
        })
      expect(await attempt(`${base}&token=${token}`)).toBe(true)
      expect(await attempt(`${base}&token=nope`)).toBe(false)
      expect(await attempt(`${base}&token=${token}`, { origin: 'https://evil.example' })).toBe(false)
      await settle()
      const upgrades = l.lines.map((line) => JSON.parse(line) as { path?: string; status?: number }).filter((e) => e.path?.startsWith('/ws/events'))
      expect(upgrades.map((e) => e.status)).toEqual([101, 401, 403])
    } finally {
      await l.app.server?.stop(true)
    }
  })
})
