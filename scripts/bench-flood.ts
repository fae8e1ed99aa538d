/**
 * An agent flooding its terminal (`yes`, for ever) while a client reads its events: how slow
 * other requests get, how far RSS grows, how fast the events arrive, how long a cancel takes.
 * The flood test (test/faults/agent-flood.test.ts) only asserts that requests are answered and
 * memory is bounded; these are the figures to compare between runs.
 */
import { startBenchServer } from './bench-server'

export type FloodBench = {
  seconds: number
  requests: number
  requestP50Ms: number
  requestP99Ms: number
  requestMaxMs: number
  idleRssKiB: number
  maxRssKiB: number
  eventsMBps: number
  cancelMs: number
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN

export async function benchFlood(options: { binary: string; seconds?: number }): Promise<FloodBench> {
  const seconds = options.seconds ?? 8
  const server = await startBenchServer(options.binary, { AGENT_CUSTOM_CMD: 'yes {instruction}' })
  try {
    const { sessionId, token } = await server.pair()
    const headers = { authorization: `Bearer ${token}` }
    await Bun.sleep(1000)
    const idleRssKiB = server.rssKiB()
    let chars = 0
    const ws = new WebSocket(`${server.wsUrl}/ws/events?sessionId=${sessionId}&token=${token}`)
    ws.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as { type: string; data?: string }
      if (event.type === 'output') chars += event.data?.length ?? 0
    }
    await new Promise((resolve) => (ws.onopen = resolve))
    const created = await fetch(`${server.baseUrl}/api/tasks`, { method: 'POST', headers, body: JSON.stringify({ instruction: 'bench-flood', agent: 'custom' }) })
    const { taskId } = (await created.json()) as { taskId: string }
    while (chars < 1_000_000) await Bun.sleep(20)

    const latencies: number[] = []
    let maxRssKiB = idleRssKiB
    const charsBefore = chars
    const started = performance.now()
    while (performance.now() - started < seconds * 1000) {
      for (const path of ['/healthz', `/api/tasks/${taskId}`]) {
        const sent = performance.now()
        await (await fetch(`${server.baseUrl}${path}`, { headers })).arrayBuffer()
        latencies.push(performance.now() - sent)
      }
      maxRssKiB = Math.max(maxRssKiB, server.rssKiB())
      await Bun.sleep(100)
    }
    const eventsMBps = (chars - charsBefore) / 1e6 / ((performance.now() - started) / 1000)

    const cancelStarted = performance.now()
    await (await fetch(`${server.baseUrl}/api/tasks/${taskId}/cancel`, { method: 'POST', headers })).arrayBuffer()
    const cancelMs = performance.now() - cancelStarted
    ws.close()
    latencies.sort((a, b) => a - b)
    return {
      seconds,
      requests: latencies.length,
      requestP50Ms: percentile(latencies, 0.5),
      requestP99Ms: percentile(latencies, 0.99),
      requestMaxMs: latencies.at(-1) ?? NaN,
      idleRssKiB,
      maxRssKiB,
      eventsMBps,
      cancelMs,
    }
  } finally {
    server.stop()
  }
}

if (import.meta.main) {
  const { join } = await import('node:path')
  console.log(await benchFlood({ binary: join(import.meta.dir, '..', 'dist', 'cockpit-coder') }))
}
