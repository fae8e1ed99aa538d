import { connect } from 'node:net'
import { makeTestApp, type TestAppOptions } from '../fixtures/app'

/**
 * The shell the tests' terminals run. An interactive bash reads the machine's ~/.bashrc, which on
 * a developer box may run pyenv or nvm hooks taking seconds per prompt under load; /bin/sh reads
 * no rc file, so the tests measure the server, not the machine's shell set-up.
 */
export const TEST_SHELL = '/bin/sh'

/**
 * The whole app (makeTestApp: the real auth guard, session store, event hub, tasks and terminal
 * layer as src/app.ts wires them) listening on a free port for real WebSocket clients.
 */
export async function makeWsTestApp(options: TestAppOptions = {}) {
  const app = await makeTestApp({ ...options, services: { ...options.services, terminals: { shell: TEST_SHELL, ...options.services?.terminals } } })
  const { baseUrl, wsUrl } = app.listen()
  const query = (extra: Record<string, string | number>) =>
    new URLSearchParams({ sessionId: app.sessionId, token: app.token, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) })
  return {
    ...app,
    terminals: app.services.terminals,
    baseUrl,
    wsUrl,
    ptyUrl: (extra: Record<string, string | number> = {}) => `${wsUrl}/ws/pty?${query(extra)}`,
    eventsUrl: (extra: Record<string, string | number> = {}) => `${wsUrl}/ws/events?${query(extra)}`,
  }
}

export type WsTestApp = Awaited<ReturnType<typeof makeWsTestApp>>

/** A real WebSocket client that keeps everything it receives. */
export class TestSocket {
  readonly ws: WebSocket
  readonly frames: string[] = []
  text = ''
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters = new Set<() => void>()

  constructor(url: string, options: { headers?: Record<string, string> } = {}) {
    this.ws = new WebSocket(url, { headers: options.headers })
    this.ws.binaryType = 'arraybuffer'
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve())
      this.ws.addEventListener('error', () => reject(new Error(`WebSocket ${url} failed`)))
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => this.ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })))
    this.ws.addEventListener('message', (e) => {
      const frame = typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data as ArrayBuffer)
      this.frames.push(frame)
      this.text += frame
      for (const wake of this.waiters) wake()
    })
    this.ws.addEventListener('close', () => {
      for (const wake of this.waiters) wake()
    })
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data)
  }

  json(): Record<string, unknown>[] {
    return this.frames.map((frame) => JSON.parse(frame) as Record<string, unknown>)
  }

  /** Resolves when `done()` holds; fails with what arrived so far after timeoutMs. */
  async until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (done()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.text.slice(-600))}`))
      }, timeoutMs)
      const check = () => {
        if (!done()) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      this.waiters.add(check)
    })
  }

  untilText(pattern: string | RegExp, timeoutMs?: number): Promise<void> {
    const test = () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text))
    return this.until(test, `text ${String(pattern)}`, timeoutMs)
  }

  untilFrames(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.frames.length >= count, `${count} frames`, timeoutMs)
  }

  close(): void {
    this.ws.close()
  }
}

/** Sends a WebSocket upgrade by hand and returns the HTTP status line's code and the body. */
export function rawUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const target = new URL(url.replace(/^ws/, 'http'))
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname, () => socket.write(lines.join('\r\n') + '\r\n\r\n'))
    let received = ''
    const finish = () => {
      const status = Number(received.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0)
      const body = received.split('\r\n\r\n').slice(1).join('\r\n\r\n')
      resolve({ status, body })
    }
    socket.on('data', (data) => {
      received += data.toString()
      // A refusal is a complete HTTP answer; an accepted upgrade starts streaming frames.
      if (/\r\n\r\n/.test(received)) setTimeout(() => socket.destroy(), 300)
    })
    socket.on('close', finish)
    socket.on('error', reject)
  })
}

/** Processes whose session id is `sid`, from the process table (ps), zombies excluded. */
export function processesInSession(sid: number): string[] {
  const ps = Bun.spawnSync(['ps', '-eo', 'pid=,sid=,stat=,args='])
  return ps.stdout
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => Number(cols[1]) === sid && !cols[2]?.startsWith('Z'))
    .map((cols) => `${cols[0]} ${cols.slice(3).join(' ')}`)
}

/** Types a line into a terminal socket the way xterm does (Enter is CR). */
export function typeLine(socket: TestSocket, line: string): void {
  socket.send(`${line}\r`)
}
