/**
 * Authenticated GET /api/session/{id} of the compiled binary (default settings: request logs on)
 * against a bare Bun.serve answering the same JSON, driven by wrk -t1 -c64 in its own native
 * process. A generator inside this process (fetch) topped out near 25 000 req/s on two cores and
 * made both servers look alike. A third server in the same rounds, a one-route Elysia app with
 * `@elysiajs/cors` alone (bench-cors-app.ts), shows how close to bare the stack itself can get.
 * Each round measures the three one after another, in turn forwards and backwards; each round's
 * ratios count.
 */
import { join } from 'node:path'
import { readListeningUrl, startBenchServer } from './bench-server'
import { median } from './bench-stats'

export type HttpBench = { generator: string; runs: number; seconds: number; oursRps: number[]; bareRps: number[]; ratios: number[]; corsAppRps: number[]; corsAppRatios: number[] }

const CONNECTIONS = 64

function hasWrk(): boolean {
  return Bun.spawnSync(['sh', '-c', 'command -v wrk'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0
}

function wrkRps(url: string, headers: Record<string, string>, seconds: number): number {
  const args = ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url]
  const run = Bun.spawnSync(args, { stdout: 'pipe', stderr: 'pipe' })
  const out = run.stdout.toString()
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  if (run.exitCode !== 0 || !Number.isFinite(rps)) throw new Error(`wrk failed: ${out}${run.stderr.toString()}`)
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error answers from ${url}: ${out}`)
  return rps
}

/** The fallback when wrk is missing: fetch from this process, which measures the generator as much as the server. */
async function fetchRps(url: string, headers: Record<string, string>, seconds: number): Promise<number> {
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
  await Promise.all(Array.from({ length: CONNECTIONS }, worker))
  return done / ((performance.now() - started) / 1000)
}

async function referenceServer(argv: string[], what: string): Promise<{ url: string; stop: () => void }> {
  const proc = Bun.spawn([process.execPath, ...argv], { stdout: 'pipe', stderr: 'inherit' })
  return { url: await readListeningUrl(proc.stdout.getReader(), what), stop: () => proc.kill('SIGKILL') }
}

function bareServer(body: string): Promise<{ url: string; stop: () => void }> {
  const script = `const body = ${JSON.stringify(body)}; const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(body, { headers: { 'content-type': 'application/json' } }) }); console.log('listening on http://127.0.0.1:' + s.port)`
  return referenceServer(['-e', script], 'bare server')
}

function corsAppServer(body: string): Promise<{ url: string; stop: () => void }> {
  return referenceServer([join(import.meta.dir, 'bench-cors-app.ts'), body], 'Elysia app with @elysiajs/cors')
}

export async function benchHttp(options: { binary: string; runs?: number; seconds?: number; log?: (line: string) => void }): Promise<HttpBench> {
  const runs = options.runs ?? 5
  const seconds = options.seconds ?? 2
  const wrk = hasWrk()
  if (!wrk) {
    options.log?.('!!! wrk is not installed (apt-get install wrk): falling back to fetch from the benchmark process,')
    options.log?.('!!! which tops out near 25 000 req/s on two cores; the HTTP ratio below is NOT comparable.')
  }
  const measure = (url: string, headers: Record<string, string>) => (wrk ? Promise.resolve(wrkRps(url, headers, seconds)) : fetchRps(url, headers, seconds))
  const ours = await startBenchServer(options.binary)
  try {
    const session = await ours.pair()
    const url = `${ours.baseUrl}/api/session/${session.sessionId}`
    const headers = { authorization: `Bearer ${session.token}` }
    const sample = await (await fetch(url, { headers })).text()
    const bare = await bareServer(sample)
    const corsApp = await corsAppServer(sample)
    try {
      const bareUrl = `${bare.url}/api/session/${session.sessionId}`
      const corsAppUrl = `${corsApp.url}/api/session/${session.sessionId}`
      // Warm all three (JIT, connection set-up), then alternate which goes first.
      if (wrk) for (const warm of [url, bareUrl, corsAppUrl]) wrkRps(warm, headers, 1)
      const oursRps: number[] = []
      const bareRps: number[] = []
      const corsAppRps: number[] = []
      const sides = [
        async () => oursRps.push(await measure(url, headers)),
        async () => bareRps.push(await measure(bareUrl, headers)),
        async () => corsAppRps.push(await measure(corsAppUrl, headers)),
      ]
      for (let run = 0; run < runs; run++) {
        for (const side of run % 2 === 0 ? sides : [...sides].reverse()) await side()
      }
      const ratios = oursRps.map((o, i) => o / bareRps[i]!)
      const corsAppRatios = corsAppRps.map((c, i) => c / bareRps[i]!)
      return {
        generator: wrk ? `wrk -t1 -c${CONNECTIONS}, ${seconds} s per run` : `fetch from the bench process (wrk missing), ${CONNECTIONS} in flight`,
        runs,
        seconds,
        oursRps,
        bareRps,
        ratios,
        corsAppRps,
        corsAppRatios,
      }
    } finally {
      bare.stop()
      corsApp.stop()
    }
  } finally {
    ours.stop()
  }
}

if (import.meta.main) {
  const r = await benchHttp({ binary: process.argv[2] ?? 'dist/cockpit-coder', log: console.error })
  console.log(r, 'median ratio', median(r.ratios))
}
