/**
 * The session's event stream, as CONTRACT.md "WebSockets" describes it. The page keeps the
 * newest seq and epoch it saw and reconnects with them, so a phone that sleeps and wakes gets
 * every event it missed (or a `gap`, and then refetches over HTTP).
 */
export type ServerEvent = { seq: number; ts: string; epoch: string; type: string; taskId?: string; cmdId?: string } & Record<string, unknown>
export type ResumeFrame = { type: 'resume'; status: 'ok' | 'gap'; epoch: string; lastSeq: number }
/** Replies to the page's own frames (error, ack, pong): no seq, never replayed. */
export type ReplyFrame = { type: string; for?: string; message?: string } & Record<string, unknown>

export type EventSocketHandlers = {
  /** Every event, once, in seq order; `live` is false for events replayed from before this connection. */
  event(event: ServerEvent, live: boolean): void
  resumed(frame: ResumeFrame): void
  reply(frame: ReplyFrame): void
  connection(state: 'connecting' | 'live' | 'offline'): void
  unauthorized(): void
}

const PING_EVERY_MS = 20_000
const PONG_WITHIN_MS = 10_000

export class EventSocket {
  private socket: WebSocket | null = null
  private lastSeq = 0
  private epoch: string | null = null
  private replayUntil = 0
  private retryMs = 500
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private pongDeadline: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  constructor(
    private readonly url: () => string,
    private readonly handlers: EventSocketHandlers,
  ) {
    // A phone that wakes or gets its network back reconnects at once instead of after a back-off.
    document.addEventListener('visibilitychange', this.wake)
    window.addEventListener('online', this.wake)
  }

  start(): void {
    this.stopped = false
    this.open()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    document.removeEventListener('visibilitychange', this.wake)
    window.removeEventListener('online', this.wake)
    this.closeSocket()
  }

  /** Sends a frame; false when the socket is not open (the caller says so to its user). */
  send(frame: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false
    this.socket.send(JSON.stringify(frame))
    return true
  }

  private readonly wake = () => {
    if (this.stopped || document.visibilityState === 'hidden') return
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return this.ping()
    clearTimeout(this.retryTimer)
    this.retryMs = 500
    this.open()
  }

  private open(): void {
    this.closeSocket()
    this.handlers.connection('connecting')
    const query = new URLSearchParams({ resumeSeq: String(this.lastSeq) })
    if (this.epoch) query.set('epoch', this.epoch)
    const socket = new WebSocket(`${this.url()}&${query}`)
    this.socket = socket
    socket.onmessage = (message) => {
      if (socket === this.socket && typeof message.data === 'string') this.receive(message.data)
    }
    socket.onclose = (close) => {
      if (socket !== this.socket) return
      this.closeSocket()
      // 4401: the token is refused; 4410: the session was ended or expired.
      if (close.code === 4401 || close.code === 4410) return this.handlers.unauthorized()
      this.handlers.connection('offline')
      if (!this.stopped) this.retry()
    }
  }

  private retry(): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => this.open(), this.retryMs)
    this.retryMs = Math.min(this.retryMs * 2, 10_000)
  }

  private receive(text: string): void {
    let frame: Record<string, unknown>
    try {
      frame = JSON.parse(text) as Record<string, unknown>
    } catch {
      return
    }
    if (frame.type === 'pong') return clearTimeout(this.pongDeadline)
    if (frame.type === 'resume') return this.resumed(frame)
    if (typeof frame.seq !== 'number') return this.handlers.reply(frame as ReplyFrame)
    const event = frame as ServerEvent
    if (event.seq <= this.lastSeq && event.epoch === this.epoch) return
    this.lastSeq = event.seq
    this.epoch = event.epoch
    this.handlers.event(event, event.seq > this.replayUntil)
  }

  private resumed(frame: Record<string, unknown>): void {
    // The contract names the newest seq `lastSeq`; servers before it said `seq`.
    const lastSeq = typeof frame.lastSeq === 'number' ? frame.lastSeq : typeof frame.seq === 'number' ? frame.seq : 0
    const epoch = typeof frame.epoch === 'string' ? frame.epoch : ''
    const status = frame.status === 'gap' ? 'gap' : 'ok'
    if (status === 'gap' || epoch !== this.epoch) this.lastSeq = 0
    this.epoch = epoch
    this.replayUntil = lastSeq
    this.retryMs = 500
    this.handlers.connection('live')
    this.handlers.resumed({ type: 'resume', status, epoch, lastSeq })
    this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS)
  }

  /** A socket a sleeping phone left half-open looks fine until a ping goes unanswered. */
  private ping(): void {
    if (!this.send({ type: 'ping' })) return
    clearTimeout(this.pongDeadline)
    this.pongDeadline = setTimeout(() => {
      this.closeSocket()
      this.handlers.connection('offline')
      if (!this.stopped) this.open()
    }, PONG_WITHIN_MS)
  }

  private closeSocket(): void {
    clearInterval(this.pingTimer)
    clearTimeout(this.pongDeadline)
    const socket = this.socket
    this.socket = null
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close()
  }
}
