import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import type { EventDefinition, EventFields } from './define'

/**
 * Per-session event stream: every producer (tasks, commands, sessions) publishes here and never
 * blocks; subscribers are called synchronously and must do their own buffering (the WebSocket
 * layer drops a client that cannot keep up). A bounded ring keeps recent events for resume.
 */
/** An event as kept and sent; its fields are those of its EventDefinition (ws/frames.ts lists them all). */
export type BusEvent = { readonly type: string; readonly seq: number; readonly ts: string; readonly epoch: string; readonly [field: string]: unknown }

export type EventListener = (event: BusEvent) => void

export type ReplayResult = { status: 'ok' | 'gap'; events: BusEvent[] }

export type RingLimits = { maxEvents: number; maxBytes: number }

export const DEFAULT_RING_LIMITS: RingLimits = { maxEvents: 5000, maxBytes: 8 * 1024 * 1024 }

export class EventBus {
  private seq = 0
  private ring: { event: BusEvent; bytes: number }[] = []
  private ringHead = 0
  private ringBytes = 0
  private readonly listeners = new Set<EventListener>()

  constructor(
    readonly epoch: string,
    private readonly limits: RingLimits = DEFAULT_RING_LIMITS,
    private readonly logger: Logger = STANDALONE_LOGGER,
  ) {}

  get lastSeq(): number {
    return this.seq
  }

  publish<D extends EventDefinition>(definition: D, fields: EventFields<D>): BusEvent {
    const event: BusEvent = { type: definition.type, ...(fields as object), seq: ++this.seq, ts: new Date().toISOString(), epoch: this.epoch }
    this.remember(event)
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (error) {
        // One broken subscriber must not stop the producer or the other subscribers.
        this.logger.error('event listener failed', { type: definition.type, error: describeError(error) })
      }
    }
    return event
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get subscriberCount(): number {
    return this.listeners.size
  }

  /**
   * Events with seq > afterSeq. `gap` when some of them already left the ring or the client's
   * epoch is not ours (the server restarted, so its seq numbers mean nothing here).
   */
  replay(afterSeq: number, epoch?: string): ReplayResult {
    if (epoch !== undefined && epoch !== this.epoch) return { status: 'gap', events: this.kept() }
    const kept = this.kept()
    const events = kept.filter((e) => e.seq > afterSeq)
    const oldestKept = kept.length > 0 ? kept[0]!.seq : this.seq + 1
    const gap = afterSeq < this.seq && afterSeq + 1 < oldestKept
    return { status: gap ? 'gap' : 'ok', events }
  }

  close(): void {
    this.listeners.clear()
    this.ring = []
    this.ringHead = 0
    this.ringBytes = 0
  }

  private kept(): BusEvent[] {
    return this.ring.slice(this.ringHead).map((entry) => entry.event)
  }

  private remember(event: BusEvent): void {
    const text = 'data' in event ? event.data : 'content' in event ? event.content : null
    const bytes = typeof text === 'string' ? text.length * 2 + 256 : 256
    this.ring.push({ event, bytes })
    this.ringBytes += bytes
    while (this.ring.length - this.ringHead > this.limits.maxEvents || this.ringBytes > this.limits.maxBytes) {
      const dropped = this.ring[this.ringHead++]
      if (!dropped) break
      this.ringBytes -= dropped.bytes
    }
    // Compact occasionally so the array does not grow with dropped slots.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead)
      this.ringHead = 0
    }
  }
}

/** One bus per session, created on first use and closed when the session ends. */
export class EventHub {
  private readonly buses = new Map<string, EventBus>()

  constructor(
    readonly epoch: string,
    private readonly limits: RingLimits = DEFAULT_RING_LIMITS,
    private readonly logger: Logger = STANDALONE_LOGGER,
  ) {}

  forSession(sessionId: string): EventBus {
    let bus = this.buses.get(sessionId)
    if (!bus) {
      bus = new EventBus(this.epoch, this.limits, this.logger)
      this.buses.set(sessionId, bus)
    }
    return bus
  }

  publish<D extends EventDefinition>(sessionId: string, definition: D, fields: EventFields<D>): BusEvent {
    return this.forSession(sessionId).publish(definition, fields)
  }

  closeSession(sessionId: string): void {
    this.buses.get(sessionId)?.close()
    this.buses.delete(sessionId)
    collectSoon()
  }
}

let collection: ReturnType<typeof setTimeout> | null = null

/**
 * A full collection shortly after sessions end (once for a burst of them). What a session's output
 * passed through is garbage by then, but the collector left it to a later, lazier cycle: 50 agent
 * tasks printing 4 MB each over 13 sessions left the server at 488 MB RSS after the sessions were
 * deleted, while a heap snapshot taken then held 9 MB of live objects. The pause is that of a
 * small live heap, once per burst of session ends.
 */
function collectSoon(): void {
  if (collection) return
  collection = setTimeout(() => {
    collection = null
    Bun.gc(true)
  }, 1000)
  collection.unref?.()
}
