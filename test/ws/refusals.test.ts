import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { gitCli, TEST_PAIRING_TOKEN } from '../fixtures/app'
import { makeWsTestApp, rawUpgrade, TestSocket, type WsTestApp } from './helpers'

setDefaultTimeout(30_000)

let t: WsTestApp
let other: { sessionId: string; token: string }

beforeAll(async () => {
  t = await makeWsTestApp({ env: { PTY_MAX_PER_SESSION: '2', PTY_MAX_TOTAL: '1' } })
  other = await t.newSession()
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

/** A refused WebSocket: the client sees a failed handshake and not one frame. */
async function expectRefusedWithoutOutput(url: string, headers?: Record<string, string>): Promise<void> {
  const socket = new TestSocket(url, { headers })
  await expect(socket.opened).rejects.toThrow()
  await socket.closed
  expect(socket.frames).toEqual([])
}

for (const route of ['pty', 'events'] as const) {
  describe(`/ws/${route} refuses before any output`, () => {
    const url = (query: Record<string, string>) => `${t.wsUrl}/ws/${route}?${new URLSearchParams(query)}`

    it('a bad token with 401', async () => {
      const answer = await rawUpgrade(url({ sessionId: t.sessionId, token: 'not-a-jwt' }))
      expect(answer.status).toBe(401)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthorized' })
      await expectRefusedWithoutOutput(url({ sessionId: t.sessionId, token: 'not-a-jwt' }))
    })

    it('a missing token with 401', async () => {
      expect((await rawUpgrade(url({ sessionId: t.sessionId }))).status).toBe(401)
    })

    it("another session's id with 401, whichever token is used", async () => {
      const mine = await rawUpgrade(url({ sessionId: other.sessionId, token: t.token }))
      expect(mine.status).toBe(401)
      expect(JSON.parse(mine.body)).toMatchObject({ error: 'unauthorized' })
      expect((await rawUpgrade(url({ sessionId: t.sessionId, token: other.token }))).status).toBe(401)
      await expectRefusedWithoutOutput(url({ sessionId: other.sessionId, token: t.token }))
      expect(t.terminals.terminalOf(other.sessionId)).toBeUndefined()
    })

    it('a browser Origin outside CORS_ORIGINS with 403', async () => {
      const query = { sessionId: t.sessionId, token: t.token }
      const answer = await rawUpgrade(url(query), { Origin: 'http://evil.example' })
      expect(answer.status).toBe(403)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'origin_not_allowed' })
      await expectRefusedWithoutOutput(url(query), { Origin: 'http://evil.example' })
    })

    it('a listed Origin, and no Origin at all, with the token', async () => {
      const query = { sessionId: t.sessionId, token: t.token }
      for (const headers of [{ Origin: 'http://localhost:19006' }, {}] as Record<string, string>[]) {
        const socket = new TestSocket(url(query), { headers })
        await socket.opened
        socket.close()
        await socket.closed
      }
    })

    it('the Authorization header instead of ?token=', async () => {
      const socket = new TestSocket(url({ sessionId: t.sessionId }), { headers: t.authHeaders })
      await socket.opened
      socket.close()
      await socket.closed
    })
  })
}

describe('/ws/pty shell start', () => {
  it('refuses with 409 repo_missing when the session repo was deleted', async () => {
    // PTY_MAX_TOTAL=1 here: make room first, so the missing repo is what is refused.
    await t.terminals.stopSession(t.sessionId)
    const repo = join(t.allowed, 'short-lived')
    mkdirSync(repo)
    gitCli(repo, 'init', '-q')
    const paired = await t.app.handle(
      new Request('http://localhost/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body: JSON.stringify({ repo }) }),
    )
    const session = (await paired.json()) as { sessionId: string; token: string }
    rmSync(repo, { recursive: true })
    const answer = await rawUpgrade(`${t.wsUrl}/ws/pty?${new URLSearchParams(session)}`)
    expect(answer.status).toBe(409)
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'repo_missing' })
  })
})

describe('/ws/pty caps', () => {
  it('refuses a third client of one session with 429 (PTY_MAX_PER_SESSION=2)', async () => {
    const a = new TestSocket(t.ptyUrl())
    const b = new TestSocket(t.ptyUrl())
    await Promise.all([a.opened, b.opened])
    const third = await rawUpgrade(t.ptyUrl())
    expect(third.status).toBe(429)
    expect(JSON.parse(third.body)).toMatchObject({ error: 'too_many_requests' })
    a.close()
    await a.closed
    // A slot is free again once a client leaves.
    const c = new TestSocket(t.ptyUrl())
    await c.opened
    b.close()
    c.close()
    await Promise.all([b.closed, c.closed])
  })

  it('refuses a shell for a second session with 503 when PTY_MAX_TOTAL=1 is reached', async () => {
    const mine = new TestSocket(t.ptyUrl())
    await mine.opened
    const url = `${t.wsUrl}/ws/pty?${new URLSearchParams({ sessionId: other.sessionId, token: other.token })}`
    const answer = await rawUpgrade(url)
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_many_terminals' })
    mine.close()
    await mine.closed
  })
})
