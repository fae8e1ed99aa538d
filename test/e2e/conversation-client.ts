import { startBinary } from '../fixtures/binary'

export type Frame = Record<string, unknown> & { type: string; seq?: number }

/** One /ws/events client that records every frame and can wait for one. */
export class EventsClient {
  readonly frames: Frame[] = []
  private readonly socket: WebSocket
  private waiters: (() => void)[] = []

  private constructor(url: string) {
    this.socket = new WebSocket(url)
    this.socket.onmessage = (message) => {
      this.frames.push(JSON.parse(String(message.data)) as Frame)
      for (const wake of this.waiters.splice(0)) wake()
    }
  }

  static async open(wsEvents: string, sessionId: string, token: string, resume?: { seq: number; epoch: string }): Promise<EventsClient> {
    const query = `sessionId=${sessionId}&token=${token}${resume ? `&resumeSeq=${resume.seq}&epoch=${resume.epoch}` : ''}`
    const client = new EventsClient(`${wsEvents}?${query}`)
    await new Promise<void>((resolve, reject) => {
      client.socket.onopen = () => resolve()
      client.socket.onerror = () => reject(new Error('events socket failed to open'))
    })
    await client.next((f) => f.type === 'resume')
    return client
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame))
  }

  /** The first recorded frame matching, waiting up to `timeoutMs` for it. */
  async next(match: (frame: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.find(match)
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => [f.type, f.status ?? f.role ?? f.outcome ?? '']))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  of(taskId: string, type: string): Frame[] {
    return this.frames.filter((f) => f.type === type && f.taskId === taskId)
  }

  close(): void {
    this.socket.close()
  }
}

/** The compiled binary, paired, with an events client and request helpers. */
export async function conversationServer(env: Record<string, string> = {}) {
  const server = await startBinary({ env })
  const pairing = await server.pair()
  const events = await EventsClient.open(pairing.ws.events, pairing.sessionId, pairing.token)
  const headers = { authorization: `Bearer ${pairing.token}` }
  const api = async <T = Record<string, unknown>>(path: string, init: { method?: string; json?: unknown } = {}) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    })
    return { status: response.status, body: (await response.json()) as T }
  }
  return {
    server,
    pairing,
    events,
    api,
    async start(body: Record<string, unknown>): Promise<string> {
      const { status, body: task } = await api<{ taskId: string }>('/api/tasks', { json: body })
      if (status !== 202) throw new Error(`task refused: ${status} ${JSON.stringify(task)}`)
      return task.taskId
    },
    /** Waits for a `status` event of the task with this status (and phase, when given). */
    status(taskId: string, status: string, phase?: string, after = 0): Promise<Frame> {
      return events.next((f) => f.type === 'status' && f.taskId === taskId && f.status === status && (phase === undefined || f.phase === phase) && (f.seq ?? 0) > after)
    },
    async [Symbol.asyncDispose]() {
      events.close()
      await server[Symbol.asyncDispose]()
    },
  }
}

/** Live processes whose command line contains `text` (the mock carries its instruction in argv). */
export async function processesWith(text: string): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs')
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return []
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      return cmdline.includes(text) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' ? [Number(entry)] : []
    } catch {
      return []
    }
  })
}

/** Live processes whose working directory is under `dir` (an agent and whatever it started in a workspace). */
export async function processesIn(dir: string): Promise<number[]> {
  const { readdirSync, readlinkSync, readFileSync } = await import('node:fs')
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return []
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`)
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      return cwd.startsWith(dir) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' ? [Number(entry)] : []
    } catch {
      return []
    }
  })
}
