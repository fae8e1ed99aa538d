import { Type, type Static, type TLiteral, type TObject, type TProperties } from '@sinclair/typebox'

/**
 * One kind of event on a session's bus: its `type` and a TypeBox schema of its fields. Each
 * layer declares the events it emits next to the code that emits them (opencode's
 * BusEvent.define is the model), publishes with `bus.publish(Definition, fields)`, and
 * ws/frames.ts lists the definitions in the socket's catalogue, which the OpenAPI document
 * publishes. Adding an event type: one `defineEvent` here-or-in-your-layer, one entry in
 * EVENT_DEFINITIONS (ws/frames.ts), one test that a published one validates.
 */
export type EventDefinition<K extends string = string, P extends TProperties = TProperties> = {
  readonly type: K
  /** The event as a client receives it: `type`, its fields, and the bus's `seq`, `ts`, `epoch`. */
  readonly schema: TObject<P & { type: TLiteral<K> } & typeof ENVELOPE>
  /**
   * The event as its producer makes it (`type` and its fields, no envelope): what the bus checks
   * on publish. The envelope is the bus's own one line (an integer seq, toISOString, the epoch),
   * and its `ts` format check was nine tenths of a full check's cost (0.19-0.28 µs against
   * 0.02-0.025 µs per status event, measured with Elysia's date-time format loaded).
   */
  readonly payload: TObject
  /** The schema's name in the OpenAPI document's components. */
  readonly name: string
}

/** The fields of an event as the producer passes them (everything but type and envelope). */
export type EventFields<D extends EventDefinition> = D extends EventDefinition<string, infer P> ? Static<TObject<P>> : never

/** The event payload on the bus before the envelope is added. */
export type EventPayload<D extends EventDefinition = EventDefinition> = EventFields<D> & { type: D['type'] }

const ENVELOPE = {
  seq: Type.Integer({ minimum: 1, description: 'Strictly increasing per session, replay included' }),
  ts: Type.String({ format: 'date-time' }),
  epoch: Type.String({ description: 'Changes when seq numbers restart; a client resuming with another epoch gets a gap' }),
}

export function defineEvent<const K extends string, P extends TProperties>(type: K, properties: P, description: string): EventDefinition<K, P> {
  const name = `${type.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())}Event`
  const schema = Type.Object({ type: Type.Literal(type), ...properties, ...ENVELOPE }, { title: name, description })
  const payload: TObject = Type.Object({ type: Type.Literal(type), ...properties }, { title: name }) as TObject
  return { type, schema: schema as EventDefinition<K, P>['schema'], payload, name }
}

/** The event as a client receives it (fields and envelope). */
export type EventOf<D extends EventDefinition> = Static<D['schema']>

/** Narrows a bus event to one definition by its type (for subscribers and tests). */
export function isEvent<E extends { type: string }, D extends EventDefinition>(event: E, definition: D): event is E & EventOf<D> {
  return event.type === definition.type
}
