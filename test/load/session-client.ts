/**
 * One simulated phone for the load test: a paired session with its terminal and events sockets,
 * and helpers that start tasks, run commands and type into the shell while counting outcomes.
 */
import { jsonOf } from '../faults/support'

export type LoadStats = {
  requests: number
  /** Any 5xx, or an answer the load did not expect (kept for the failure message). */
  unexpected: string[]
  tasksStarted: number
  tasksCompleted: number
  commandsRun: number
  throttled: number
  terminalEchoes: number
  events: number
}

export function emptyStats(): LoadStats {
  return { requests: 0, unexpected: [], tasksStarted: 0, tasksCompleted: 0, commandsRun: 0, throttled: 0, terminalEchoes: 0, events: 0 }
}

type Pairing = { sessionId: string; token: string }

/**
 * Every request of the load goes on a connection of its own (no keep-alive), so once the load
 * stops no client connection is left open and the server's fd count can come back to idle.
 */
export async function pair(baseUrl: string, repo: string, pairingToken: string): Promise<Pairing> {
  const answer = await jsonOf<Pairing>(
    await fetch(`${baseUrl}/api/session`, { method: 'POST', keepalive: false, headers: { authorization: `Bearer ${pairingToken}` }, body: JSON.stringify({ repo }) }),
  )
  if (answer.status !== 201) throw new Error(`pairing answered ${answer.status}`)
  return answer.body
}

function openSocket(url: string, onText: (text: string) => void): Promise<WebSocket> {
  const ws = new WebSocket(url)
  ws.addEventListener('message', (message) => onText(String(message.data)))
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws))
    ws.addEventListener('error', () => reject(new Error(`${url.split('?')[0]} did not open`)))
  })
}

export class SessionClient {
  pty!: WebSocket
  events!: WebSocket
  private ptyTail = ''
  private readonly closeCodes: number[] = []

  private constructor(
    private readonly baseUrl: string,
    readonly pairing: Pairing,
    private readonly stats: LoadStats,
  ) {}

  static async connect(baseUrl: string, pairing: Pairing, stats: LoadStats): Promise<SessionClient> {
    const client = new SessionClient(baseUrl, pairing, stats)
    const query = `sessionId=${pairing.sessionId}&token=${pairing.token}`
    const wsBase = baseUrl.replace('http', 'ws')
    client.pty = await openSocket(`${wsBase}/ws/pty?${query}`, (text) => (client.ptyTail = (client.ptyTail + text).slice(-2048)))
    client.events = await openSocket(`${wsBase}/ws/events?${query}`, () => stats.events++)
    for (const ws of [client.pty, client.events]) ws.addEventListener('close', (event) => client.closeCodes.push(event.code))
    return client
  }

  /** Close codes the server sent so far (4410 once the session is deleted). */
  get closes(): readonly number[] {
    return this.closeCodes
  }

  private async call(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    this.stats.requests++
    const answer = await jsonOf(await fetch(`${this.baseUrl}${path}`, { ...init, keepalive: false, headers: { authorization: `Bearer ${this.pairing.token}` } }))
    if (answer.status >= 500) this.stats.unexpected.push(`${init.method ?? 'GET'} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
    return answer
  }

  /** A mock task with a small delay, followed to its end. */
  async runTask(marker: string): Promise<void> {
    const started = await this.call('/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: marker, context: { mock: { delayMs: 300 } } }) })
    if (started.status === 429) return void this.stats.throttled++
    if (started.status !== 202) return void this.stats.unexpected.push(`task: ${started.status} ${JSON.stringify(started.body)}`)
    this.stats.tasksStarted++
    for (;;) {
      const view = await this.call(`/api/tasks/${started.body.taskId}`)
      if (view.body.status === 'completed') return void this.stats.tasksCompleted++
      if (view.status !== 200 || !['pending', 'running'].includes(String(view.body.status))) {
        return void this.stats.unexpected.push(`task ended ${view.status} ${JSON.stringify(view.body)}`)
      }
      await Bun.sleep(100)
    }
  }

  async runCommand(marker: string): Promise<void> {
    const answer = await this.call('/api/cmd?wait=true', { method: 'POST', body: JSON.stringify({ cmd: `echo load ${marker}` }) })
    if (answer.status === 429) return void this.stats.throttled++
    if (answer.status !== 200 || answer.body.output !== `load ${marker}\n`) return void this.stats.unexpected.push(`cmd: ${answer.status} ${JSON.stringify(answer.body)}`)
    this.stats.commandsRun++
  }

  /** Types an echo into the shell and waits (bounded) for its output. */
  async typeEcho(word: string): Promise<void> {
    this.pty.send(`echo ${word}-$((20+22))\r`)
    const deadline = Date.now() + 5000
    while (!this.ptyTail.includes(`${word}-42`)) {
      if (Date.now() > deadline) return void this.stats.unexpected.push(`terminal did not echo ${word}`)
      await Bun.sleep(50)
    }
    this.stats.terminalEchoes++
  }

  async end(): Promise<void> {
    const answer = await this.call(`/api/session/${this.pairing.sessionId}`, { method: 'DELETE' })
    if (answer.status !== 200) this.stats.unexpected.push(`delete: ${answer.status}`)
  }
}
