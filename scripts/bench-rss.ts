/**
 * Server memory: RSS idle and with 50 live terminals each watched over a WebSocket (per-terminal
 * cost), and RSS after rounds of output-heavy agent tasks whose sessions are then deleted: each
 * round runs 50 tasks over 13 sessions, each task's agent printing about 4 MB.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBenchServer, type BenchServer } from './bench-server'

export type RssBench = { idleKiB: number; withTerminalsKiB: number; terminals: number; perTerminalKiB: number }
export type OutputRoundsBench = { idleKiB: number; afterRoundKiB: number[]; peakKiB: number; tasksPerRound: number; sessionsPerRound: number; bytesPerTask: number }

async function openTerminal(wsUrl: string, session: { sessionId: string; token: string }): Promise<WebSocket> {
  const socket = new WebSocket(`${wsUrl}/ws/pty?sessionId=${session.sessionId}&token=${session.token}`)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('terminal did not answer')), 15_000)
    socket.onmessage = () => {
      clearTimeout(timer)
      resolve()
    }
    socket.onerror = () => reject(new Error('terminal socket failed'))
    socket.onopen = () => socket.send(JSON.stringify({ type: 'input', data: 'echo ready\r' }))
  })
  return socket
}

export async function benchRss(options: { binary: string; terminals?: number }): Promise<RssBench> {
  const count = options.terminals ?? 50
  const server = await startBenchServer(options.binary, { PTY_MAX_TOTAL: String(count + 10) })
  const sockets: WebSocket[] = []
  try {
    await Bun.sleep(1500)
    const idleKiB = server.rssKiB()
    for (let i = 0; i < count; i++) sockets.push(await openTerminal(server.wsUrl, await server.pair()))
    await Bun.sleep(1500)
    const withTerminalsKiB = server.rssKiB()
    return { idleKiB, withTerminalsKiB, terminals: count, perTerminalKiB: (withTerminalsKiB - idleKiB) / count }
  } finally {
    for (const socket of sockets) socket.close()
    server.stop()
  }
}

type Session = { sessionId: string; token: string }

async function call(server: BenchServer, session: Session, path: string, init: RequestInit = {}) {
  const response = await fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function runTask(server: BenchServer, session: Session, n: number): Promise<void> {
  const accepted = await call(server, session, '/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: `flood ${n}`, agent: 'custom' }) })
  if (accepted.status !== 202) throw new Error(`POST /api/tasks: ${accepted.status} ${JSON.stringify(accepted.body)}`)
  for (;;) {
    const view = await call(server, session, `/api/tasks/${accepted.body.taskId}`)
    if (view.body.status === 'completed') return
    if (!['pending', 'running'].includes(String(view.body.status))) throw new Error(`flood task ended ${JSON.stringify(view.body)}`)
    await Bun.sleep(100)
  }
}

export async function benchOutputRounds(options: { binary: string; rounds?: number; tasks?: number; sessions?: number; bytesPerTask?: number }): Promise<OutputRoundsBench> {
  const rounds = options.rounds ?? 3
  const tasks = options.tasks ?? 50
  const sessionsPerRound = options.sessions ?? 13
  const bytesPerTask = options.bytesPerTask ?? 4_000_000
  // The agent: a script that prints bytesPerTask of base64 lines and edits one file.
  const script = `#!/bin/sh\nhead -c ${Math.round((bytesPerTask * 3) / 4)} /dev/urandom | base64 -w 120\necho "$1" > flood-output.txt\n`
  const agentDir = mkdtempSync(join(tmpdir(), 'cockpit-bench-agent-'))
  const agent = join(agentDir, 'flood-agent.sh')
  writeFileSync(agent, script)
  chmodSync(agent, 0o755)
  const flood = await startBenchServer(options.binary, { AGENT_CUSTOM_CMD: agent })
  try {
    await Bun.sleep(1500)
    const idleKiB = flood.rssKiB()
    let peakKiB = idleKiB
    const afterRoundKiB: number[] = []
    for (let round = 0; round < rounds; round++) {
      const sessions = await Promise.all(Array.from({ length: sessionsPerRound }, () => flood.pair()))
      let next = 0
      const lane = async () => {
        while (next < tasks) {
          const n = next++
          await runTask(flood, sessions[n % sessionsPerRound]!, n)
          peakKiB = Math.max(peakKiB, flood.rssKiB())
        }
      }
      await Promise.all(Array.from({ length: sessionsPerRound }, lane))
      for (const session of sessions) await call(flood, session, `/api/session/${session.sessionId}`, { method: 'DELETE' })
      await Bun.sleep(3000)
      afterRoundKiB.push(flood.rssKiB())
    }
    return { idleKiB, afterRoundKiB, peakKiB, tasksPerRound: tasks, sessionsPerRound, bytesPerTask }
  } finally {
    flood.stop()
    rmSync(agentDir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const binary = process.argv[2] ?? join(import.meta.dir, '..', 'dist', 'cockpit-coder')
  console.log(await benchOutputRounds({ binary }))
}
