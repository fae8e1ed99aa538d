import type { BusEvent, EventBus } from '../events'
import { CLOSE, type ClientSocket } from './client-socket'

/** Bun's ServerWebSocket topics: one publish reaches every other subscriber of the topic. */
export interface TopicSocket {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: string): number
}

type Group = { topic: string; members: Map<ClientSocket, TopicSocket>; stopListening: () => void }

/**
 * An event as a frame. Not cached on the event: a cache lived as long as the event stayed in the
 * session's ring (up to 8 MB of output), doubling what the ring holds. Live events are serialised
 * once per session anyway (one topic publish reaches every socket); a replay serialises again.
 */
export function eventText(event: BusEvent): string {
  return JSON.stringify(event)
}

let groupCounter = 0

/**
 * Live events to every events socket of a session through one Bun topic: Bun encodes the frame
 * once and writes it to each socket natively. Measured on this machine, 10 000 events to 100
 * sockets took 14 s with one ws.send per socket and event, and about 1 s as topic publishes.
 * Before each publish, a member whose queue passed maxQueuedBytes leaves the topic and is closed
 * with 1013, so nothing is silently dropped for it and its queue stays bounded; it reconnects
 * with resumeSeq and gets the missed events from the ring (or `gap`).
 */
export class EventsFanout {
  private readonly groups = new WeakMap<EventBus, Group>()

  constructor(private readonly maxQueuedBytes: number) {}

  /**
   * Subscribes a socket to the bus's live events; call it in the same synchronous step as the
   * replay, so nothing is published in between. Returns the leave function.
   */
  join(bus: EventBus, socket: ClientSocket, raw: TopicSocket): () => void {
    let group = this.groups.get(bus)
    if (!group) group = this.startGroup(bus)
    group.members.set(socket, raw)
    raw.subscribe(group.topic)
    const joined = group
    return () => this.leave(bus, joined, socket)
  }

  private startGroup(bus: EventBus): Group {
    const group: Group = { topic: `events:${++groupCounter}`, members: new Map(), stopListening: () => {} }
    group.stopListening = bus.subscribe((event) => {
      let publisher: ClientSocket | undefined
      for (const [member, raw] of group.members) {
        if (member.queuedBytes > this.maxQueuedBytes) {
          const queued = member.queuedBytes
          raw.unsubscribe(group.topic)
          group.members.delete(member)
          member.close(CLOSE.tooSlow, `too slow: ${queued} bytes of events were waiting; reconnect with resumeSeq`)
        } else if (!publisher && member.open) {
          publisher = member
        }
      }
      if (!publisher) return
      const text = eventText(event)
      // A socket's publish skips the socket itself: it gets its copy directly, in the same order.
      group.members.get(publisher)!.publish(group.topic, text)
      publisher.send(text)
    })
    this.groups.set(bus, group)
    return group
  }

  private leave(bus: EventBus, group: Group, socket: ClientSocket): void {
    const raw = group.members.get(socket)
    if (!raw) return
    group.members.delete(socket)
    raw.unsubscribe(group.topic)
    if (group.members.size === 0 && this.groups.get(bus) === group) {
      group.stopListening()
      this.groups.delete(bus)
    }
  }
}
