/**
 * Request bodies that once stalled the server's only event loop before any auth (found by the
 * route fuzzer, fixed in the HTTP layer and the task route): a 1 MB string where `context` wants
 * an object (Elysia coerced it into an object with a key per character, ~4 s), and a body nested
 * 20 000 levels deep (pretty-printed into the 422, quadratic: ~25 s for 80 KB). Against the
 * compiled binary, each must be answered at once while /healthz stays prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { startBinary } from '../fixtures/binary'

/** Answered this fast on a loaded 2-core machine, or the body is doing real work it should not. */
const PROMPT_MS = 1000

let server: Awaited<ReturnType<typeof startBinary>>
let token: string

beforeAll(async () => {
  server = await startBinary()
  ;({ token } = await server.pair())
}, 30_000)

afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
}, 15_000)

function nested(depth: number): unknown {
  let value: unknown = 'x'
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

/** Sends `body` to POST /api/tasks and, 100 ms later, /healthz; returns both answers and timings. */
async function stall(body: string, authorization: string) {
  const started = performance.now()
  const attack = fetch(`${server.baseUrl}/api/tasks`, { method: 'POST', headers: { authorization }, body }).then(async (response) => ({
    status: response.status,
    error: ((await response.json()) as { error: string }).error,
    ms: performance.now() - started,
  }))
  await Bun.sleep(100)
  const probeStarted = performance.now()
  const health = await fetch(`${server.baseUrl}/healthz`).then((response) => ({ status: response.status, ms: performance.now() - probeStarted }))
  return { attack: await attack, health }
}

describe('request bodies that used to stall the server', () => {
  const contextString = JSON.stringify({ instruction: 'x', context: 'A'.repeat(1_000_000) })
  const deep = JSON.stringify({ instruction: nested(20_000) })
  const rows = (): [what: string, body: string, authorization: string, status: number, kind: string][] => [
    ['a 1 MB string as context, bad token', contextString, 'Bearer garbage', 401, 'unauthorized'],
    ['a 1 MB string as context, valid token', contextString, `Bearer ${token}`, 400, 'invalid_context'],
    ['20 000 levels of nesting, bad token', deep, 'Bearer garbage', 400, 'too_deep'],
    ['20 000 levels of nesting, valid token', deep, `Bearer ${token}`, 400, 'too_deep'],
  ]
  it('answers each at once and keeps /healthz prompt', async () => {
    for (const [what, body, authorization, status, kind] of rows()) {
      const { attack, health } = await stall(body, authorization)
      expect([what, attack.status, attack.error]).toEqual([what, status, kind])
      expect(attack.ms).toBeLessThan(PROMPT_MS)
      expect([what, health.status]).toEqual([what, 200])
      expect(health.ms).toBeLessThan(PROMPT_MS)
    }
  }, 60_000)
})
