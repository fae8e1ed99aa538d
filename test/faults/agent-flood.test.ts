/**
 * An agent that floods its terminal (`yes`, for ever; and 50 MB then exit), run by the compiled
 * binary: other requests are still answered promptly, each output event stays within its bound,
 * the server's memory stays bounded, and the flooding task can still be cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { startBinary } from '../fixtures/binary'
import { writeFakeAgent, uniqueMarker, type FakeAgent } from './fake-agent'
import { expectNoLeftovers, jsonOf, rssKiB, waitFor } from './support'

/** One output event carries at most this much (the OutputStreamer the task layer publishes through). */
const MAX_EVENT_CHARS = 16 * 1024
/**
 * What RSS may grow by over idle while an agent floods for 8 s. Measured on a 2-core machine: it
 * plateaus at +50-80 MB with nobody watching and +90-220 MB with a client reading about 30 MB/s of
 * events (garbage the GC has not returned yet); keeping what was streamed would pass 400 MB.
 */
const RSS_GROWTH_LIMIT_KIB = 300 * 1024
const FLOOD_MS = 8000
/** A request answered slower than this while the agent floods (and this test reads ~30 MB/s of its events on the same 2 cores) means the flood starves the server. */
const PROMPT_MS = 1500

let agent: FakeAgent
let server: Awaited<ReturnType<typeof startBinary>>
let token: string
let sessionId: string

beforeAll(async () => {
  agent = writeFakeAgent()
  server = await startBinary({
    env: {
      AGENT_CUSTOM_CMD: agent.path,
      // 50 MB, then exit 0: the finite flood.
      AGENT_CLAUDE_CMD: `sh -c 'head -c 50000000 /dev/zero | tr "\\0" x; echo; echo "done $0"' {instruction}`,
    },
  })
  ;({ token, sessionId } = await server.pair())
}, 60_000)

afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
  agent?.[Symbol.dispose]()
}, 15_000)

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } })

/** Events of the session over a real WebSocket, keeping only what the bounds need. */
function watchOutput() {
  const seen = { events: 0, chars: 0, maxChars: 0, closeCode: null as number | null }
  const ws = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/ws/events?sessionId=${sessionId}&token=${token}`)
  ws.addEventListener('message', (message) => {
    const event = JSON.parse(String(message.data)) as { type: string; data?: string }
    if (event.type !== 'output' || event.data === undefined) return
    seen.events++
    seen.chars += event.data.length
    seen.maxChars = Math.max(seen.maxChars, event.data.length)
  })
  ws.addEventListener('close', (event) => (seen.closeCode = event.code))
  return { seen, close: () => ws.close() }
}

/** Samples latency of two cheap requests and the server's RSS for `ms`, while the flood goes on. */
async function probeWhileFlooding(ms: number, taskId: string) {
  const result = { slowestMs: 0, requests: 0, maxRssKiB: 0 }
  const until = Date.now() + ms
  while (Date.now() < until) {
    for (const path of ['/healthz', `/api/tasks/${taskId}`]) {
      const started = performance.now()
      const response = await api(path)
      expect(response.status).toBe(200)
      await response.arrayBuffer()
      result.slowestMs = Math.max(result.slowestMs, performance.now() - started)
      result.requests++
    }
    result.maxRssKiB = Math.max(result.maxRssKiB, rssKiB(server.proc.pid))
    await Bun.sleep(100)
  }
  return result
}

async function startTask(instruction: string, agentName: string): Promise<string> {
  const answer = await jsonOf<{ taskId: string }>(await api('/api/tasks', { method: 'POST', body: JSON.stringify({ instruction, agent: agentName }) }))
  expect(answer.status).toBe(202)
  return answer.body.taskId
}

describe('an agent that floods its output', () => {
  it('never starves other requests, keeps events and memory bounded, and can be cancelled', async () => {
    const marker = uniqueMarker('flood')
    const idleRss = rssKiB(server.proc.pid)
    const watch = watchOutput()
    const id = await startTask(`flood ${marker}`, 'custom')
    await waitFor('1 MB of flood output to arrive', () => watch.seen.chars > 1_000_000 || watch.seen.closeCode !== null)

    const probe = await probeWhileFlooding(FLOOD_MS, id)
    console.log(
      `flood: ${watch.seen.events} output events, ${(watch.seen.chars / 1e6).toFixed(1)} MB received, largest ${watch.seen.maxChars} chars; ` +
        `${probe.requests} requests, slowest ${Math.round(probe.slowestMs)} ms; RSS ${idleRss} KiB idle, ${probe.maxRssKiB} KiB at most` +
        (watch.seen.closeCode !== null ? `; events socket closed ${watch.seen.closeCode}` : ''),
    )
    expect(probe.slowestMs).toBeLessThan(PROMPT_MS)
    expect(watch.seen.maxChars).toBeLessThanOrEqual(MAX_EVENT_CHARS)
    expect(probe.maxRssKiB - idleRss).toBeLessThan(RSS_GROWTH_LIMIT_KIB)
    // ...while the flood was real: the server streamed tens of MB to the watching client.
    expect(watch.seen.chars).toBeGreaterThan(20_000_000)
    // A client too slow for the flood is dropped with 1013 rather than buffered without bound.
    expect([null, 1013]).toContain(watch.seen.closeCode)

    const started = performance.now()
    const cancelled = await jsonOf<{ status: string }>(await api(`/api/tasks/${id}/cancel`, { method: 'POST' }))
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled'])
    expect(performance.now() - started).toBeLessThan(3000)
    await expectNoLeftovers([marker])
    watch.close()
  }, 60_000)

  it('gets through 50 MB of output and completes, answering other requests meanwhile', async () => {
    const marker = uniqueMarker('fifty-mb')
    const id = await startTask(marker, 'claude')
    let slowestMs = 0
    const view = await waitFor(
      'the 50 MB task to complete',
      async () => {
        const started = performance.now()
        const task = await jsonOf<{ status: string; error?: string }>(await api(`/api/tasks/${id}`))
        slowestMs = Math.max(slowestMs, performance.now() - started)
        return ['completed', 'failed', 'cancelled'].includes(task.body.status) ? task.body : undefined
      },
      60_000,
      100,
    )
    console.log(`50 MB: task ${view.status}; slowest GET meanwhile ${Math.round(slowestMs)} ms`)
    expect(view).toMatchObject({ status: 'completed' })
    expect(slowestMs).toBeLessThan(PROMPT_MS)
    await expectNoLeftovers([marker])
  }, 90_000)
})
