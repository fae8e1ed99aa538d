import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import type { EventDefinition, EventFields } from './define'
import { OutgoingCheck } from './outgoing-check'

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

/**
 * Where one session's kept events outlive the process (state.db, through src/store/). Appends
 * may be written behind: a crash can lose the last batch, and a client that saw those events
 * then gets a `gap` and refetches over HTTP (see EventBus.replay).
 */
export interface SessionEventLog {
  /**
   * The newest seq and the kept events from before this process; `gapBelow` when events were
   * lost (a crash with a batch unwritten): a resume from before it is a gap.
   */
  load(): { lastSeq: number; events: BusEvent[]; gapBelow?: number }
  append(event: BusEvent): void
  /** Events before `seq` left the ring; the log may drop them too. */
  trimBefore(seq: number): void
}

/** Opens the log of each session; `forget` when the session ends (its rows go with the session). */
export interface EventLog {
  forSession(sessionId: string): SessionEventLog
  forget(sessionId: string): void
}

/** The length of an event's text (an output chunk's data, a message's content); 0 for one without. */
export function eventTextLength(event: BusEvent): number {
  const text = 'data' in event ? event.data : 'content' in event ? event.content : null
  return typeof text === 'string' ? text.length : 0
}

/** What an event holds in the ring, counted by its text. */
function eventBytes(event: BusEvent): number {
  return eventTextLength(event) * 2 + 256
}

export class EventBus {
  private seq = 0
  private ring: { event: BusEvent; bytes: number }[] = []
  private ringHead = 0
  private ringBytes = 0
  /** A resume from before this seq is a gap: events before it were lost with a crashed process. */
  private gapBelow = 0
  private readonly listeners = new Set<EventListener>()

  constructor(
    readonly epoch: string,
    private readonly limits: RingLimits = DEFAULT_RING_LIMITS,
    private readonly logger: Logger = STANDALONE_LOGGER,
    private readonly log: SessionEventLog | null = null,
    /** Checks each event once, here, before any subscriber or the log sees it (see OutgoingCheck). */
    private readonly outgoing: OutgoingCheck = new OutgoingCheck('throw', logger),
  ) {
    if (!log) return
    const { lastSeq, events, gapBelow } = log.load()
    this.seq = lastSeq
    this.gapBelow = gapBelow ?? 0
    // A stored batch may reach back further than the ring keeps: keep the newest that fit.
    let kept = events.length
    let bytes = 0
    while (kept > 0 && events.length - kept < limits.maxEvents && bytes + eventBytes(events[kept - 1]!) <= limits.maxBytes) bytes += eventBytes(events[--kept]!)
    for (const event of events.slice(kept)) this.ring.push({ event, bytes: eventBytes(event) })
    this.ringBytes = bytes
  }

  get lastSeq(): number {
    return this.seq
  }

  publish<D extends EventDefinition>(definition: D, fields: EventFields<D>): BusEvent {
    const event: BusEvent = { type: definition.type, ...(fields as object), seq: this.seq + 1, ts: new Date().toISOString(), epoch: this.epoch }
    // The producer's part (the payload schema ignores the envelope), before the seq is taken:
    // an event refused in tests leaves no hole in the numbering.
    this.outgoing.check(definition.payload, event)
    this.seq = event.seq
    this.remember(event)
    this.log?.append(event)
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
    const gap = (afterSeq < this.seq && afterSeq + 1 < oldestKept) || afterSeq < this.gapBelow
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
    let trimmed = false
    const bytes = eventBytes(event)
    this.ring.push({ event, bytes })
    this.ringBytes += bytes
    while (this.ring.length - this.ringHead > this.limits.maxEvents || this.ringBytes > this.limits.maxBytes) {
      const dropped = this.ring[this.ringHead++]
      if (!dropped) break
      this.ringBytes -= dropped.bytes
      trimmed = true
    }
    if (trimmed) this.log?.trimBefore(this.ring[this.ringHead]?.event.seq ?? event.seq + 1)
    // Compact occasionally so the array does not grow with dropped slots.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead)
      this.ringHead = 0
    }
  }
}

/**
 * One bus per session, created on first use (with its kept events and seq from the log, when
 * there is one) and closed when the session ends. The epoch is kept in state.db, so it stays the
 * same across restarts and a client's resumeSeq keeps its meaning.
 */
export class EventHub {
  private readonly buses = new Map<string, EventBus>()

  constructor(
    readonly epoch: string,
    private readonly limits: RingLimits = DEFAULT_RING_LIMITS,
    private readonly logger: Logger = STANDALONE_LOGGER,
    private readonly log: EventLog | null = null,
    /** Shared by every session's bus; createServices passes the server's (logging) one. */
    readonly outgoing: OutgoingCheck = new OutgoingCheck('throw', logger),
  ) {}

  forSession(sessionId: string): EventBus {
    let bus = this.buses.get(sessionId)
    if (!bus) {
      bus = new EventBus(this.epoch, this.limits, this.logger, this.log?.forSession(sessionId) ?? null, this.outgoing)
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
    this.log?.forget(sessionId)
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
