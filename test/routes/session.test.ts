import { describe, expect, it } from 'bun:test'
import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { makeTestApp, TEST_JWT_SECRET, TEST_PAIRING_TOKEN } from '../fixtures/app'
import { forgeJwt } from '../fixtures/forged-jwt'

async function errorOf(response: Response) {
  return { status: response.status, body: (await response.json()) as { error: string; message: string } }
}

function pair(app: Awaited<ReturnType<typeof makeTestApp>>, body: unknown, token = TEST_PAIRING_TOKEN) {
  return app.request('/api/session', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
}

describe('POST /api/session', () => {
  it('pairs with the pairing token and answers the connection JSON', async () => {
    await using t = await makeTestApp()
    const response = await pair(t, { repo: t.repo, label: 'phone' })
    expect(response.status).toBe(201)
    const body = (await response.json()) as Record<string, any>
    expect(body.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(body.token.split('.')).toHaveLength(3)
    expect(body.ws).toEqual({ pty: 'ws://localhost/ws/pty', events: 'ws://localhost/ws/events' })
    expect(body.apiBase).toBe('http://localhost')
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now())
  })

  it('reads a JSON body sent as a form content type, as curl -d does', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/session', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({ repo: t.repo }),
    })
    expect(response.status).toBe(201)
  })

  it('refuses a wrong pairing token with 401 JSON and WWW-Authenticate', async () => {
    await using t = await makeTestApp()
    const response = await pair(t, { repo: t.repo }, 'wrong-token')
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(await errorOf(response)).toMatchObject({ status: 401, body: { error: 'unauthorized' } })
  })

  it('refuses a session token used as the pairing token', async () => {
    await using t = await makeTestApp()
    expect((await pair(t, { repo: t.repo }, t.token)).status).toBe(401)
  })

  it('refuses "Bearer DEV" unless DEV_MODE is on', async () => {
    await using t = await makeTestApp()
    expect((await pair(t, { repo: t.repo }, 'DEV')).status).toBe(401)
    await using dev = await makeTestApp({ env: { DEV_MODE: 'true' } })
    expect((await pair(dev, { repo: dev.repo }, 'DEV')).status).toBe(201)
  })

  it('refuses a repo outside the allowlist with 403', async () => {
    await using t = await makeTestApp()
    expect(await errorOf(await pair(t, { repo: t.root }))).toMatchObject({ status: 403, body: { error: 'repo_not_allowed' } })
  })

  it('refuses a sibling whose name shares the allowed prefix', async () => {
    await using t = await makeTestApp()
    const sibling = `${t.allowed}2`
    mkdirSync(sibling)
    expect(await errorOf(await pair(t, { repo: sibling }))).toMatchObject({ status: 403, body: { error: 'repo_not_allowed' } })
  })

  it('refuses a repo reached through a symlink that leads out', async () => {
    await using t = await makeTestApp()
    const outside = join(t.root, 'outside')
    mkdirSync(outside)
    symlinkSync(outside, join(t.allowed, 'escape'))
    expect(await errorOf(await pair(t, { repo: join(t.allowed, 'escape') }))).toMatchObject({ status: 403, body: { error: 'repo_not_allowed' } })
  })

  it('refuses a relative repo path and a missing one with 400', async () => {
    await using t = await makeTestApp()
    expect(await errorOf(await pair(t, { repo: 'repo' }))).toMatchObject({ status: 400, body: { error: 'invalid_repo' } })
    expect(await errorOf(await pair(t, { repo: join(t.allowed, 'nope') }))).toMatchObject({ status: 400, body: { error: 'repo_not_found' } })
  })

  it('refuses a folder that is not a git repository with 400 not_a_repo saying git init', async () => {
    await using t = await makeTestApp()
    const plain = join(t.allowed, 'plain')
    mkdirSync(plain)
    const { status, body } = await errorOf(await pair(t, { repo: plain }))
    expect([status, body.error]).toEqual([400, 'not_a_repo'])
    expect(body.message).toContain('git init')
    expect(t.services.sessions.list()).toHaveLength(1)
  })

  it('refuses a via the server cannot serve with 400', async () => {
    await using t = await makeTestApp()
    expect(await errorOf(await pair(t, { repo: t.repo, via: 'relay' }))).toMatchObject({ status: 400, body: { error: 'unsupported_via' } })
  })

  it('names the offending field when the body has a wrong type', async () => {
    await using t = await makeTestApp()
    const { status, body } = await errorOf(await pair(t, { repo: 42 }))
    expect(status).toBe(422)
    expect(body.error).toBe('invalid_request')
    expect(body.message).toContain('repo')
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body: '{"repo": ' })
    expect(await errorOf(response)).toMatchObject({ status: 400, body: { error: 'invalid_json' } })
  })

  it('answers a body over the limit with 413', async () => {
    await using t = await makeTestApp()
    const response = await pair(t, { repo: t.repo, label: 'x'.repeat(2 * 1024 * 1024) })
    expect(await errorOf(response)).toMatchObject({ status: 413, body: { error: 'payload_too_large' } })
  })
})

describe('session token', () => {
  const sign = (claims: Record<string, unknown>, alg = 'HS256', secret = TEST_JWT_SECRET, exp: number | null = Math.floor(Date.now() / 1000) + 600) =>
    forgeJwt({ claims, alg, secret, exp })

  const get = (t: Awaited<ReturnType<typeof makeTestApp>>, token: string | null) =>
    t.request(`/api/session/${t.sessionId}`, { headers: token === null ? { authorization: '' } : { authorization: `Bearer ${token}` } })

  it('reads its own session', async () => {
    await using t = await makeTestApp()
    const response = await get(t, t.token)
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({ id: t.sessionId, sessionId: t.sessionId, repo: t.repo, label: 'test', via: 'direct', tasks: [] })
  })

  it('refuses a request without a token', async () => {
    await using t = await makeTestApp()
    expect(await errorOf(await get(t, null))).toMatchObject({ status: 401, body: { error: 'unauthorized' } })
  })

  it('refuses a token signed with another secret', async () => {
    await using t = await makeTestApp()
    const token = sign({ sid: t.sessionId }, 'HS256', 'another-secret-another-secret-another-secret')
    expect((await get(t, token)).status).toBe(401)
  })

  it('refuses an alg none token', async () => {
    await using t = await makeTestApp()
    expect((await get(t, sign({ sid: t.sessionId }, 'none'))).status).toBe(401)
  })

  it('refuses an HS512 token signed with the right secret', async () => {
    await using t = await makeTestApp()
    expect((await get(t, sign({ sid: t.sessionId }, 'HS512'))).status).toBe(401)
  })

  it('refuses an expired token', async () => {
    await using t = await makeTestApp()
    expect((await get(t, sign({ sid: t.sessionId }, 'HS256', TEST_JWT_SECRET, Math.floor(Date.now() / 1000) - 10))).status).toBe(401)
  })

  it('refuses a token without exp', async () => {
    await using t = await makeTestApp()
    expect((await get(t, sign({ sid: t.sessionId }, 'HS256', TEST_JWT_SECRET, null))).status).toBe(401)
  })

  it('refuses a token once its exp passes, even after it was accepted', async () => {
    await using t = await makeTestApp()
    const token = sign({ sid: t.sessionId }, 'HS256', TEST_JWT_SECRET, Math.floor(Date.now() / 1000) + 2)
    expect((await get(t, token)).status).toBe(200)
    await Bun.sleep(3100)
    expect((await get(t, token)).status).toBe(401)
  })

  it('accepts a well-formed HS256 token for a live session', async () => {
    await using t = await makeTestApp()
    expect((await get(t, sign({ sid: t.sessionId }))).status).toBe(200)
  })

  it('stops working once its session is deleted', async () => {
    await using t = await makeTestApp()
    const deleted = await t.request(`/api/session/${t.sessionId}`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect(await errorOf(await get(t, t.token))).toMatchObject({ status: 401, body: { error: 'unauthorized' } })
  })

  it("cannot read another session: 404, not 403", async () => {
    await using t = await makeTestApp()
    const other = await t.newSession()
    const response = await t.request(`/api/session/${t.sessionId}`, { headers: { authorization: `Bearer ${other.token}` } })
    expect(await errorOf(response)).toMatchObject({ status: 404, body: { error: 'session_not_found' } })
    const del = await t.request(`/api/session/${t.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.token}` } })
    expect(del.status).toBe(404)
    expect((await get(t, t.token)).status).toBe(200)
  })
})
