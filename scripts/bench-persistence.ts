/**
 * What state.db costs in the hot paths: the same app from source, twice, side by side in two child
 * processes: as shipped (sessions, tasks and events kept in state.db) and the in-memory build
 * (createServices with `sessionPersistence: null`, `eventLog: null` and a MemoryTaskStore). Both
 * answer an authenticated GET /api/session/{id} under wrk and fan 10 000 events out to 100 events
 * sockets. Both servers stay up for the whole comparison; after one warm-up round, rounds
 * alternate which side goes first, and every round's ratio counts (median and spread).
 *
 * Usage: bun scripts/bench-persistence.ts [--rounds 5]
 */
import { join } from 'node:path'
import { TaskStatusEvent } from '../src/tasks/events'
import { median } from './bench-stats'

export type PersistenceBench = {
  rounds: number
  httpGenerator: string
  /** req/s per round, state.db and in-memory, and their per-round ratios (state.db / memory). */
  httpPersistedRps: number[]
  httpMemoryRps: number[]
  httpRatios: number[]
  fanoutSubscribers: number
  fanoutEvents: number
  fanoutInOrder: boolean
  /** deliveries/s per round, and their per-round ratios (state.db / memory). */
  fanoutPersistedPerSecond: number[]
  fanoutMemoryPerSecond: number[]
  fanoutRatios: number[]
}

const SUBSCRIBERS = 100
const EVENTS = 10_000
const WRK_SECONDS = 1

type Side = {
  baseUrl: string
  wsUrl: string
  sessionId: string
  token: string
  /** Publishes `EVENTS` more events and resolves when every subscriber has them all, in order. */
  fanout(): Promise<{ ms: number; inOrder: boolean }>
  stop(): Promise<void>
}

async function startSide(memory: boolean): Promise<Side> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--server', ...(memory ? ['--memory'] : [])], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  let out = ''
  while (!out.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the ${memory ? 'in-memory' : 'state.db'} server did not start`)
    out += new TextDecoder().decode(value)
  }
  const { baseUrl, sessionId, token } = JSON.parse(out) as { baseUrl: string; sessionId: string; token: string }
  const wsUrl = baseUrl.replace(/^http/, 'ws')
  const seen = new Array<number>(SUBSCRIBERS).fill(0)
  let inOrder = true
  let target = 0
  let reached = 0
  let roundDone: () => void = () => {}
  await Promise.all(
    Array.from({ length: SUBSCRIBERS }, (_, index) => {
      const ws = new WebSocket(`${wsUrl}/ws/events?sessionId=${sessionId}&token=${token}`)
      return new Promise<void>((resolve, reject) => {
        ws.onerror = () => reject(new Error('events socket failed'))
        ws.onmessage = (event) => {
          const text = String(event.data)
          if (text.startsWith('{"type":"resume"')) return resolve()
          const seq = Number(/"seq":(\d+)/.exec(text)?.[1])
          if (seq !== seen[index]! + 1) inOrder = false
          seen[index] = seq
          if (seq === target && ++reached === SUBSCRIBERS) roundDone()
        }
      })
    }),
  )
  return {
    baseUrl,
    wsUrl,
    sessionId,
    token,
    async fanout() {
      target += EVENTS
      reached = 0
      const done = new Promise<void>((resolve) => (roundDone = resolve))
      const started = performance.now()
      child.stdin.write(`${EVENTS}\n`)
      child.stdin.flush()
      await done
      return { ms: performance.now() - started, inOrder: inOrder && seen.every((seq) => seq === target) }
    },
    async stop() {
      child.stdin.end()
      await Promise.race([child.exited, Bun.sleep(5000)])
      child.kill('SIGKILL')
    },
  }
}

function wrkRps(url: string, token: string): number {
  const run = Bun.spawnSync(['wrk', '-t1', '-c64', `-d${WRK_SECONDS}s`, '-H', `authorization: Bearer ${token}`, url], { stdout: 'pipe', stderr: 'pipe' })
  const out = run.stdout.toString()
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  if (run.exitCode !== 0 || !Number.isFinite(rps) || /Non-2xx/.test(out)) throw new Error(`wrk failed on ${url}: ${out}${run.stderr.toString()}`)
  return rps
}

/** fetch from this process when wrk is missing: the ratio still compares like with like. */
async function fetchRps(url: string, token: string): Promise<number> {
  let done = 0
  const deadline = performance.now() + WRK_SECONDS * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`)
      done++
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  return done / WRK_SECONDS
}

export async function benchPersistence(options: { rounds?: number } = {}): Promise<PersistenceBench> {
  const rounds = options.rounds ?? 5
  const wrk = Bun.spawnSync(['sh', '-c', 'command -v wrk'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0
  const [persisted, memory] = await Promise.all([startSide(false), startSide(true)])
  try {
    const rps = (side: Side) => {
      const url = `${side.baseUrl}/api/session/${side.sessionId}`
      return wrk ? Promise.resolve(wrkRps(url, side.token)) : fetchRps(url, side.token)
    }
    // Warm-up: JIT, page cache, the first batch of state.db writes.
    for (const side of [persisted, memory]) {
      await rps(side)
      await side.fanout()
    }
    const result: PersistenceBench = {
      rounds,
      httpGenerator: wrk ? `wrk -t1 -c64, ${WRK_SECONDS} s per run` : 'fetch from the bench process (wrk missing)',
      httpPersistedRps: [],
      httpMemoryRps: [],
      httpRatios: [],
      fanoutSubscribers: SUBSCRIBERS,
      fanoutEvents: EVENTS,
      fanoutInOrder: true,
      fanoutPersistedPerSecond: [],
      fanoutMemoryPerSecond: [],
      fanoutRatios: [],
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [persisted, memory] : [memory, persisted]
      const http = new Map<Side, number>()
      const fan = new Map<Side, number>()
      for (const side of order) http.set(side, await rps(side))
      for (const side of order) {
        const { ms, inOrder } = await side.fanout()
        result.fanoutInOrder &&= inOrder
        fan.set(side, (SUBSCRIBERS * EVENTS) / (ms / 1000))
      }
      result.httpPersistedRps.push(http.get(persisted)!)
      result.httpMemoryRps.push(http.get(memory)!)
      result.httpRatios.push(http.get(persisted)! / http.get(memory)!)
      result.fanoutPersistedPerSecond.push(fan.get(persisted)!)
      result.fanoutMemoryPerSecond.push(fan.get(memory)!)
      result.fanoutRatios.push(fan.get(persisted)! / fan.get(memory)!)
    }
    return result
  } finally {
    await Promise.all([persisted.stop(), memory.stop()])
  }
}

/**
 * One side: the whole app from source (createServices + createApp, as serve.ts builds them) on a
 * free port, request logs off on both sides (they are the same cost either way). Each line on
 * stdin is a count of status events to publish to the one session.
 */
async function server(memory: boolean): Promise<void> {
  const { mkdtempSync, realpathSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { loadConfig } = await import('../src/config')
  const { createServices } = await import('../src/services')
  const { createApp } = await import('../src/app')
  const { MemoryTaskStore } = await import('../src/tasks')
  const { sessionJwtOutsideRequests, signSessionToken } = await import('../src/auth/issue')
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-persistence-')))
  const config = loadConfig({ REPO_ALLOWLIST: root, STATE_DIR: join(root, 'state'), JWT_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef', LOG_LEVEL: 'silent', PATH: process.env.PATH })
  const services = createServices(config, memory ? { eventLog: null, sessionPersistence: null, tasks: { store: new MemoryTaskStore(), conversations: undefined, approvalStore: undefined } } : {})
  const app = createApp(services)
  app.listen({ hostname: '127.0.0.1', port: 0 })
  const session = services.sessions.create({ repo: root })
  const token = await signSessionToken(sessionJwtOutsideRequests(config.jwtSecret), session)
  process.stdout.write(JSON.stringify({ baseUrl: `http://127.0.0.1:${app.server!.port}`, sessionId: session.id, token }) + '\n')
  let buffered = ''
  for await (const chunk of Bun.stdin.stream()) {
    buffered += new TextDecoder().decode(chunk)
    let newline: number
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const count = Number(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
      // Published in slices, as producers do over time, so sockets drain between them.
      for (let published = 0; published < count; published += 500) {
        for (let i = published; i < Math.min(count, published + 500); i++) services.events.publish(session.id, TaskStatusEvent, { taskId: 'bench', status: 'running', phase: 'agent' })
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }
  await services.shutdown()
  await app.stop()
  rmSync(root, { recursive: true, force: true })
}

if (import.meta.main) {
  if (process.argv.includes('--server')) {
    await server(process.argv.includes('--memory'))
  } else {
    const at = process.argv.indexOf('--rounds')
    const result = await benchPersistence({ rounds: at === -1 ? undefined : Number(process.argv[at + 1]) })
    console.log(JSON.stringify(result, null, 2))
    console.log('http ratio (median)', median(result.httpRatios).toFixed(2), 'fan-out ratio (median)', median(result.fanoutRatios).toFixed(2))
  }
}
