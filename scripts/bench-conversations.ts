/**
 * Conversation benchmarks on the compiled binary with the mock agent over ACP: the approval round
 * trip (the agent asks, the `confirmation` event reaches a client, the client's answer reaches the
 * agent: timed by the agent itself), follow-up to the agent's answer, and 20 conversations at once
 * while a probe process times /healthz every 10 ms (a request that waits long means the server's
 * event loop was held).
 *
 * Usage: bun scripts/bench-conversations.ts [--binary dist/cockpit-coder] [--quick]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBenchServer } from './bench-server'

export type ConversationsBench = {
  approvalSamples: number
  approvalP50Ms: number
  approvalP99Ms: number
  followUpSamples: number
  followUpP50Ms: number
  followUpP99Ms: number
  concurrentConversations: number
  concurrentMessages: number
  concurrentSeconds: number
  /** The server's own event-loop delay while they ran (from source, perf_hooks histogram): the longest hold. */
  loopHeldMaxMs: number
  loopHeldP99Ms: number
  /** The same run seen from outside: /healthz every 10 ms from another process (includes the OS scheduler). */
  healthMaxMs: number
  healthP99Ms: number
  /** Load average when the 20 conversations ran: on a shared 2-core box the scheduler dominates the rest. */
  loadAverage: number
}

type Frame = Record<string, unknown> & { type: string }
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

function events(wsUrl: string, session: { sessionId: string; token: string }, onFrame: (frame: Frame, ws: WebSocket) => void) {
  const ws = new WebSocket(`${wsUrl}/ws/events?sessionId=${session.sessionId}&token=${session.token}`)
  ws.onmessage = (message) => onFrame(JSON.parse(String(message.data)) as Frame, ws)
  return new Promise<WebSocket>((resolve, reject) => {
    ws.onopen = () => resolve(ws)
    ws.onerror = () => reject(new Error('events socket failed'))
  })
}

async function startTask(baseUrl: string, token: string, body: unknown): Promise<string> {
  const response = await fetch(`${baseUrl}/api/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
  if (response.status !== 202) throw new Error(`task refused: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { taskId: string }).taskId
}

/** A child process that GETs /healthz every 10 ms and prints each latency. */
function startProbe(baseUrl: string) {
  const code = `const u=process.argv[1];const out=[];let on=true;process.stdin.on('data',()=>{on=false});(async()=>{while(on){const t=performance.now();await fetch(u);out.push(performance.now()-t);await Bun.sleep(10)}console.log(JSON.stringify(out))})()`
  const proc = Bun.spawn([process.execPath, '-e', code, `${baseUrl}/healthz`], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  return {
    async stop(): Promise<number[]> {
      proc.stdin.write('x')
      await proc.stdin.end()
      return JSON.parse(await new Response(proc.stdout).text()) as number[]
    },
  }
}

export async function benchConversations(options: { binary: string; quick?: boolean }): Promise<ConversationsBench> {
  const root = join(import.meta.dir, '..')
  const monitorDir = mkdtempSync(join(tmpdir(), 'cockpit-loop-'))
  const monitorFile = join(monitorDir, 'loop.json')
  // From source with the loop monitor preloaded: only code inside the server can time its own loop.
  const server = await startBenchServer([process.execPath, '--preload', join(root, 'scripts', 'bench-loop-monitor.ts'), join(root, 'src', 'main.ts')], {
    APPROVAL_POLICY: 'ask',
    LOOP_MONITOR_FILE: monitorFile,
  })
  try {
    const session = await server.pair()
    // Approval round trip: the mock asks `repeat` times; this client allows each as soon as it sees it.
    const repeat = options.quick ? 100 : 400
    const roundTrips: number[] = []
    let finished: () => void = () => {}
    const done = new Promise<void>((resolve) => (finished = resolve))
    let approvalTask = ''
    let pendingOutput = ''
    const ws = await events(server.wsUrl, session, (frame, socket) => {
      if (frame.type === 'confirmation') socket.send(JSON.stringify({ type: 'confirmation', messageId: frame.messageId, confirmed: true }))
      if (frame.type === 'output' && frame.taskId === approvalTask) {
        // A line may be split across two output events: parse whole lines only.
        pendingOutput += String(frame.data)
        const lines = pendingOutput.split('\n')
        pendingOutput = lines.pop()!
        for (const line of lines) {
          const match = /approval round trip ([\d.]+) ms/.exec(line)
          if (match) roundTrips.push(Number(match[1]))
        }
      }
      if (frame.type === 'status' && frame.taskId === approvalTask && frame.status === 'completed') finished()
    })
    approvalTask = await startTask(server.baseUrl, session.token, { instruction: 'bench approvals', context: { mock: { ask: { title: 'bench', command: 'true', repeat } } } })
    await done
    ws.close()

    // Follow-up to the agent's answer on one conversation.
    const followUps: number[] = []
    const rounds = options.quick ? 50 : 200
    let waiting: ((frame: Frame) => void) | null = null
    const chat = await events(server.wsUrl, session, (frame) => waiting?.(frame))
    const conversation = await startTask(server.baseUrl, session.token, { instruction: 'bench follow-ups' })
    await new Promise<void>((resolve) => (waiting = (f) => f.type === 'status' && f.taskId === conversation && f.status === 'completed' && resolve()))
    for (let i = 2; i < rounds + 2; i++) {
      const answered = new Promise<void>((resolve) => (waiting = (f) => f.type === 'message' && f.role === 'agent' && String(f.content).startsWith(`turn ${i}:`) && resolve()))
      const sent = performance.now()
      chat.send(JSON.stringify({ type: 'user_message', content: `round ${i}`, taskId: conversation }))
      await answered
      followUps.push(performance.now() - sent)
    }

    void options.binary
    // 20 conversations at once (5 sessions, under the per-session limit). Their agents start first;
    // then every conversation is fed follow-ups while the probe runs: the loop is timed while
    // messages stream, not while 20 agent processes are being spawned.
    const idle = startProbe(server.baseUrl)
    await Bun.sleep(1000)
    const idleMedian = percentile(await idle.stop(), 50)
    const conversations = 20
    const perConversation = options.quick ? 10 : 30
    const sessions = await Promise.all(Array.from({ length: 5 }, () => server.pair()))
    let messages = 0
    let feeding = false
    const firstTurns = new Map<string, () => void>()
    const allDone = new Map<string, () => void>()
    const sockets = await Promise.all(
      sessions.map((s) =>
        events(server.wsUrl, s, (frame, socket) => {
          if (frame.type === 'status' && frame.status === 'completed') firstTurns.get(String(frame.taskId))?.()
          if (frame.type !== 'message' || frame.role !== 'agent' || !feeding) return
          messages++
          const turn = Number(/^turn (\d+):/.exec(String(frame.content))?.[1] ?? 1)
          if (turn <= perConversation) socket.send(JSON.stringify({ type: 'user_message', content: `more ${turn}`, taskId: frame.taskId }))
          else allDone.get(String(frame.taskId))?.()
        }),
      ),
    )
    const tasks: { taskId: string; socket: WebSocket }[] = []
    const started: Promise<void>[] = []
    for (let i = 0; i < conversations; i++) {
      const s = sessions[i % sessions.length]!
      const taskId = await startTask(server.baseUrl, s.token, { instruction: `conversation ${i}` })
      tasks.push({ taskId, socket: sockets[i % sessions.length]! })
      started.push(new Promise((resolve) => firstTurns.set(taskId, resolve)))
    }
    await Promise.all(started)
    const finishedAll = tasks.map(({ taskId }) => new Promise<void>((resolve) => allDone.set(taskId, resolve)))
    const probe = startProbe(server.baseUrl)
    await Bun.sleep(200)
    server.signal('SIGUSR1')
    feeding = true
    const began = performance.now()
    for (const { taskId, socket } of tasks) socket.send(JSON.stringify({ type: 'user_message', content: 'go', taskId }))
    await Promise.all(finishedAll)
    const concurrentSeconds = (performance.now() - began) / 1000
    server.signal('SIGUSR2')
    const health = await probe.stop()
    const loadAverage = (await import('node:os')).loadavg()[0]!
    for (const socket of sockets) socket.close()
    await Bun.sleep(200)
    const loop = JSON.parse(readFileSync(monitorFile, 'utf8')) as { maxMs: number; p99Ms: number }
    return {
      approvalSamples: roundTrips.length,
      approvalP50Ms: percentile(roundTrips, 50),
      approvalP99Ms: percentile(roundTrips, 99),
      followUpSamples: followUps.length,
      followUpP50Ms: percentile(followUps, 50),
      followUpP99Ms: percentile(followUps, 99),
      concurrentConversations: conversations,
      concurrentMessages: messages,
      concurrentSeconds,
      loopHeldMaxMs: loop.maxMs,
      loopHeldP99Ms: loop.p99Ms,
      healthMaxMs: Math.max(...health) - idleMedian,
      healthP99Ms: percentile(health, 99),
      loadAverage,
    }
  } finally {
    server.stop()
    rmSync(monitorDir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf('--binary')
  const binary = at === -1 ? join(import.meta.dir, '..', 'dist', 'cockpit-coder') : process.argv[at + 1]!
  console.log(JSON.stringify(await benchConversations({ binary, quick: process.argv.includes('--quick') }), null, 2))
}
