/**
 * The compiled binary with work in flight (a long mock task, a long command, optionally live
 * terminal and events sockets), and the checks that a signal stops all of it: exit 0 in time,
 * no process left (descendants of the server, anything running in its temp dirs); workspaces stay.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBinary } from '../fixtures/binary'
import { descendantsOf, jsonOf, leftoverProcesses, waitFor, type ProcessRow } from './support'

export type BusyServer = {
  server: Awaited<ReturnType<typeof startBinary>>
  /** Processes the server started, as the table showed them before the signal. */
  children: ProcessRow[]
  sockets: WebSocket[]
}

/** Starts the binary and gives it a running mock task, a running `sleep 60` and, if asked, live sockets. */
export async function busyServer(options: { sockets: boolean }): Promise<BusyServer> {
  // /bin/sh: a bash killed during its .bashrc can leave a tool's lock (pyenv rehash) behind.
  const server = await startBinary({ env: { CMD_ALLOWLIST: 'sleep 60', SHELL: '/bin/sh' } })
  const { sessionId, token } = await server.pair()
  const headers = { authorization: `Bearer ${token}` }
  const post = async (path: string, body: unknown) => jsonOf<Record<string, string>>(await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) }))

  const task = await post('/api/tasks', { instruction: 'wait a minute', context: { mock: { delayMs: 60_000 } } })
  if (task.status !== 202) throw new Error(`task: ${task.status}`)
  const cmd = await post('/api/cmd', { cmd: 'sleep 60' })
  if (cmd.status !== 202) throw new Error(`cmd: ${cmd.status}`)
  await waitFor('the task to run', async () => {
    const view = await jsonOf<{ status: string }>(await fetch(`${server.baseUrl}/api/tasks/${task.body.taskId}`, { headers }))
    return view.body.status === 'running'
  })

  const sockets: WebSocket[] = []
  if (options.sockets) {
    const base = `${server.baseUrl.replace('http', 'ws')}`
    for (const path of ['/ws/pty', '/ws/events', '/ws/pty']) {
      const ws = new WebSocket(`${base}${path}?sessionId=${sessionId}&token=${token}`)
      await new Promise((resolve, reject) => {
        ws.addEventListener('open', resolve)
        ws.addEventListener('error', () => reject(new Error(`${path} did not open`)))
      })
      sockets.push(ws)
    }
    // Something long-running typed into the shell, so the terminal has a child of its own.
    sockets[0]!.send('sleep 61\r')
  }
  const expected = options.sockets ? 4 : 2 // mock agent, sleep 60 (+ shell, sleep 61)
  const children = await waitFor(`the server to have ${expected} children`, () => {
    const rows = descendantsOf(server.proc.pid)
    return rows.length >= expected ? rows : undefined
  })
  return { server, children, sockets }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Sends `signal`; resolves with the exit code and how long it took, or null if it did not exit within `ms`. */
export async function signalAndWait(busy: BusyServer, signal: NodeJS.Signals, ms = 5000): Promise<{ code: number; elapsedMs: number } | null> {
  const started = performance.now()
  busy.server.proc.kill(signal)
  const code = await Promise.race([busy.server.proc.exited, Bun.sleep(ms).then(() => null)])
  return code === null ? null : { code, elapsedMs: performance.now() - started }
}

/** What the server left behind: live former children, processes in its temp dirs, workspaces. */
export function leftovers(busy: BusyServer): { processes: string[]; workspaces: string[] } {
  const processes = [
    ...busy.children.filter((row) => alive(row.pid)).map((row) => `${row.pid} ${row.args}`),
    ...leftoverProcesses([busy.server.dir], [busy.server.dir]).map((row) => `${row.pid} ${row.args}`),
  ]
  const root = join(busy.server.dir, 'state', 'workspaces')
  const workspaces = existsSync(root) ? readdirSync(root, { recursive: true }).map(String) : []
  return { processes: [...new Set(processes)], workspaces }
}
