/**
 * Pairing past the session bound (found by review of the fuzzer's pairing route; was a 500 from
 * a plain Error in the session store): a clear 429, and room again once a session ends.
 */
import { describe, expect, it } from 'bun:test'
import { makeTestApp, TEST_PAIRING_TOKEN } from '../fixtures/app'
import { jsonOf } from '../faults/support'

describe('POST /api/session past the session bound', () => {
  it('answers 429 JSON naming the bound, and pairs again once a session is deleted', async () => {
    await using app = await makeTestApp()
    const pair = async () =>
      jsonOf<{ sessionId: string; token: string; error?: string; message?: string }>(
        await app.app.handle(
          new Request('http://localhost/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body: JSON.stringify({ repo: app.repo }) }),
        ),
      )
    // The fixture holds one session already; 999 more reach the bound of 1000.
    let last = await pair()
    for (let i = 1; i < 999; i++) last = await pair()
    expect(last.status).toBe(201)
    const refused = await pair()
    expect([refused.status, refused.body.error]).toEqual([429, 'too_many_requests'])
    expect(refused.body.message).toContain('1000')

    const deleted = await app.app.handle(
      new Request(`http://localhost/api/session/${last.body.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${last.body.token}` } }),
    )
    expect(deleted.status).toBe(200)
    expect((await pair()).status).toBe(201)
  }, 60_000)
})
