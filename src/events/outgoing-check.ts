import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { STANDALONE_LOGGER, type Logger } from '../logger'

// Frames carry `ts` as `format: 'date-time'` (ack, error; events too, though the bus checks only
// their payload). Elysia registers that format when it is imported, but these checks also run
// without it (unit tests, benches), and an unknown format fails every check. Only RFC 3339 with a
// zone is accepted: every date the server sends comes from toISOString. `Has ||` leaves
// Elysia's own checker in place when it came first.
const RFC3339 = /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d(\.\d+)?(Z|[+-][0-2]\d:[0-5]\d)$/i
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)))

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>()

/** A compiled check per schema, made on first use (TypeBox compiles to a function once; a check is then a call). */
export function compiledCheck<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema)
  if (!check) {
    check = TypeCompiler.Compile(schema)
    compiled.set(schema, check)
  }
  return check as TypeCheck<T>
}

/** Null when `value` fits `schema`, else one sentence naming the first wrong field. */
export function schemaProblem(schema: TSchema, value: unknown): string | null {
  const check = compiledCheck(schema)
  if (check.Check(value)) return null
  const first = check.Errors(value).First()
  const field = first?.path ? first.path.replace(/^\//, '') : 'the frame'
  return `${field}: ${first?.message ?? 'does not fit the schema'}`
}

/** What the server does when something it is about to send does not fit its own schema. */
export type OutgoingFailures = 'throw' | 'log'

/** A server bug: an event or frame the server made does not fit the schema it publishes. */
export class OutgoingSchemaError extends Error {
  override readonly name = 'OutgoingSchemaError'
}

/** After the first failure of a schema, every this-many-th is logged again (with the count). */
const LOG_EVERY = 1000

/**
 * Checks what the server sends (events, socket frames) against the schemas the OpenAPI document
 * publishes, once where it is made: an event when it is published (not per subscriber, not per
 * replay; its payload, see EventDefinition.payload), a frame when it is built. A compiled check
 * of a small object, about 0.02 µs for a status event's payload: publishing 200 000 of them
 * took 0.5-1.1 µs each with and without the check (within the noise), against roughly 300 µs
 * per event for the fan-out to 100 sockets that scripts/bench-ws.ts measures.
 *
 * Failures are a bug of ours, never of a client, so the reaction depends on who is watching:
 * - `throw` (the tests, and anything that builds a hub itself): the producer fails at the line
 *   that made the bad event, so a test cannot pass while the server sends off-schema frames.
 * - `log` (the server as shipped, createServices' default): the frame is still sent and the
 *   failure logged. A client copes with an extra or odd field far better than with a missing
 *   `status` or `exit` (dropping it would leave a task looking stuck forever), and throwing would
 *   fail the task or command that happened to publish it. One line the first time a schema fails,
 *   then every LOG_EVERY-th with the count, so a bad `output` event cannot flood the log.
 */
export class OutgoingCheck {
  private readonly failures = new Map<TSchema, number>()

  constructor(
    readonly mode: OutgoingFailures = 'throw',
    private readonly logger: Logger = STANDALONE_LOGGER,
  ) {}

  /** Checks `value` against `schema` (named by its title in the message and the log). */
  check(schema: TSchema, value: unknown): void {
    if (compiledCheck(schema).Check(value)) return
    const problem = schemaProblem(schema, value)
    const what = schema.title ?? 'frame'
    if (this.mode === 'throw') throw new OutgoingSchemaError(`The server made a ${what} that does not fit its schema: ${problem}`)
    // Keyed by schema: a fixed catalogue, so the map is bounded by it.
    const count = (this.failures.get(schema) ?? 0) + 1
    this.failures.set(schema, count)
    if (count === 1 || count % LOG_EVERY === 0) this.logger.error('the server sent a frame that does not fit its schema (a server bug)', { what, problem, count })
  }
}
