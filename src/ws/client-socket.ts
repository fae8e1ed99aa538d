/** Close codes the two WebSockets use; 4xxx mirror the HTTP status of the same refusal. */
export const CLOSE = {
  /** The terminal's process exited (after the `exit` frame). */
  normal: 1000,
  /** The server is shutting down. */
  goingAway: 1001,
  /** The client fell too far behind; it may reconnect (and gets the recent screen / resume). */
  tooSlow: 1013,
  unauthorized: 4401,
  notFound: 4404,
  /** The session was deleted or expired. */
  sessionEnded: 4410,
  tooManyClients: 4429,
  unavailable: 4503,
} as const

/** The part of Bun's ServerWebSocket this layer uses. */
export interface RawSocket {
  send(data: string): number
  getBufferedAmount(): number
  close(code?: number, reason?: string): void
  terminate(): void
}

export type ClientSocketOptions = {
  /** Bytes the server may hold for this client before dropping it. */
  maxQueuedBytes: number
  /** How long a closing client gets to take the close frame before the connection is cut. */
  closeGraceMs?: number
}

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024

/**
 * One connected client with a hard bound on what the server queues for it. Bun queues a frame it
 * cannot write at once (send() → -1) and drops it past backpressureLimit (send() → 0), silently
 * tearing a terminal stream; so a client whose queue passes maxQueuedBytes is closed with 1013
 * and a reason instead, and everyone else carries on. A client that does not even read its close
 * frame is cut off after closeGraceMs, which frees what it still had queued.
 */
export class ClientSocket {
  private closing = false
  private cutTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly raw: RawSocket,
    private readonly options: ClientSocketOptions,
  ) {}

  get open(): boolean {
    return !this.closing
  }

  get queuedBytes(): number {
    return this.closing ? 0 : this.raw.getBufferedAmount()
  }

  /** Queues one text frame; false when the client is gone or was just dropped for being slow. */
  send(text: string): boolean {
    if (this.closing) return false
    const queued = this.raw.getBufferedAmount()
    if (queued > this.options.maxQueuedBytes) {
      this.close(CLOSE.tooSlow, `too slow: ${queued} bytes of output were waiting; reconnect to catch up`)
      return false
    }
    if (this.raw.send(text) === 0) {
      this.close(CLOSE.tooSlow, 'too slow: the server had to drop output; reconnect to catch up')
      return false
    }
    return true
  }

  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    // A close reason is at most 123 bytes on the wire.
    this.raw.close(code, reason.slice(0, 120))
    this.cutTimer = setTimeout(() => this.raw.terminate(), this.options.closeGraceMs ?? 10_000)
    this.cutTimer.unref?.()
  }

  /** The connection is gone (the route's close handler): nothing more to send or cut. */
  closed(): void {
    this.closing = true
    clearTimeout(this.cutTimer)
  }
}

/**
 * Every open socket per session, so ending a session closes its terminals' and events' sockets
 * with a clear code (the app registers closeSession with the session store's onEnd).
 */
export class SessionSockets {
  private readonly bySession = new Map<string, Set<ClientSocket>>()

  /** `isLive` answers whether a session still exists (the session store's get). */
  constructor(private readonly isLive: (sessionId: string) => boolean = () => true) {}

  /**
   * Registers an open socket, or closes it (4410) and answers false when its session ended
   * between the upgrade and now: a socket added after the session's clean-up ran would
   * otherwise outlive it, with a shell of its own.
   */
  admit(sessionId: string, socket: ClientSocket): { admitted: boolean; remove: () => void } {
    if (!this.isLive(sessionId)) {
      socket.close(CLOSE.sessionEnded, 'the session was ended')
      return { admitted: false, remove: () => {} }
    }
    return { admitted: true, remove: this.add(sessionId, socket) }
  }

  add(sessionId: string, socket: ClientSocket): () => void {
    let set = this.bySession.get(sessionId)
    if (!set) {
      set = new Set()
      this.bySession.set(sessionId, set)
    }
    set.add(socket)
    return () => {
      const current = this.bySession.get(sessionId)
      current?.delete(socket)
      if (current?.size === 0) this.bySession.delete(sessionId)
    }
  }

  count(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0
  }

  /** Sockets of the session not yet told to close (count() also has those still closing). */
  openCount(sessionId: string): number {
    let open = 0
    for (const socket of this.bySession.get(sessionId) ?? []) if (socket.open) open++
    return open
  }

  closeSession(sessionId: string, reason: 'deleted' | 'expired' | 'shutdown' = 'deleted'): void {
    const set = this.bySession.get(sessionId)
    if (!set) return
    this.bySession.delete(sessionId)
    for (const socket of set) {
      if (reason === 'shutdown') socket.close(CLOSE.goingAway, 'the server is shutting down')
      else socket.close(CLOSE.sessionEnded, `the session ${reason === 'expired' ? 'expired' : 'was ended'}`)
    }
  }

  closeAll(): void {
    for (const sessionId of [...this.bySession.keys()]) this.closeSession(sessionId, 'shutdown')
  }
}
