/**
 * HTTP figures of the compiled binary, each against a reference measured in the same run:
 * authenticated GET /api/session/{id} per second vs a bare Bun.serve answering the same JSON,
 * and start-to-healthy time vs the bare server's.
 */
import { startBenchServer, type BenchServer } from './bench-server'

async function requestsPerSecond(url: string, headers: Record<string, string>, seconds: number, concurrency = 32): Promise<number> {
  let done = 0
  const deadline = performance.now() + seconds * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      const response = await fetch(url, { headers })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`)
      done++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - started) / 1000)
}

async function bareServer(body: string): Promise<{ url: string; startMs: number; stop: () => void }> {
  const script = `const body = ${JSON.stringify(body)}; const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (r) => new URL(r.url).pathname === '/healthz' ? Response.json({ ok: true }) : new Response(body, { headers: { 'content-type': 'application/json' } }) }); console.log('listening on http://127.0.0.1:' + s.port)`
  const started = performance.now()
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  let out = ''
  while (!/listening on (\S+)/.test(out)) {
    const { value, done } = await reader.read()
    if (done) throw new Error('bare server did not start')
    out += new TextDecoder().decode(value)
  }
  const url = /listening on (\S+)/.exec(out)![1]!
  while ((await fetch(`${url}/healthz`).catch(() => null))?.status !== 200) await Bun.sleep(5)
  return { url, startMs: performance.now() - started, stop: () => proc.kill('SIGKILL') }
}

export type HttpBench = { oursRps: number; bareRps: number; rpsRatio: number; oursStartMs: number; bareStartMs: number; startRatio: number }

export async function benchHttp(options: { binary: string; seconds?: number }): Promise<HttpBench> {
  const seconds = options.seconds ?? 4
  const starts: number[] = []
  let server: BenchServer | null = null
  for (let i = 0; i < 3; i++) {
    server?.stop()
    server = await startBenchServer(options.binary)
    starts.push(server.startMs)
  }
  const ours = server!
  try {
    const session = await ours.pair()
    const url = `${ours.baseUrl}/api/session/${session.sessionId}`
    const headers = { authorization: `Bearer ${session.token}` }
    const sample = await (await fetch(url, { headers })).text()
    const bare = await bareServer(sample)
    const bareStarts = [bare.startMs]
    try {
      await requestsPerSecond(url, headers, 1)
      await requestsPerSecond(bare.url, headers, 1)
      const oursRps = await requestsPerSecond(url, headers, seconds)
      const bareRps = await requestsPerSecond(bare.url, headers, seconds)
      for (let i = 0; i < 2; i++) {
        const again = await bareServer(sample)
        bareStarts.push(again.startMs)
        again.stop()
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
      const oursStartMs = median(starts)
      const bareStartMs = median(bareStarts)
      return { oursRps, bareRps, rpsRatio: oursRps / bareRps, oursStartMs, bareStartMs, startRatio: oursStartMs / bareStartMs }
    } finally {
      bare.stop()
    }
  } finally {
    ours.stop()
  }
}
