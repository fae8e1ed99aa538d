/** Messages between the git worker and its callers, and how an error crosses the thread boundary intact. */
import * as errors from '../errors'

/** `run` starts an operation; `cancel` tells a running one to stop where it can (its reply is then ignored). */
export type GitRequest = { type: 'run'; id: number; op: string; input: unknown } | { type: 'cancel'; id: number }
export type SerializedError = { name: string; message: string; stack?: string; fields: Record<string, unknown> }
export type GitReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError }

/** Own fields a caller may test: an AppError's status/kind (and a PatchConflict's file/hunk), errno's code/path. */
const KEPT = ['status', 'kind', 'file', 'hunk', 'code', 'errno', 'syscall', 'path']

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} }
  const fields: Record<string, unknown> = {}
  for (const key of KEPT) {
    const value = (error as unknown as Record<string, unknown>)[key]
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value
  }
  return { name: error.name, message: error.message, stack: error.stack, fields }
}

/** The same class (the domain's errors by name) with the same fields, so `instanceof` and `.code` checks still hold. */
export function reviveError(serialized: SerializedError): Error {
  const known = (errors as Record<string, unknown>)[serialized.name]
  const proto = typeof known === 'function' && known.prototype instanceof Error ? (known.prototype as Error) : Error.prototype
  // A real Error (its internal slot matters to inspection and matchers), given the class's prototype.
  const error = new Error(serialized.message)
  Object.setPrototypeOf(error, proto)
  if (serialized.stack) error.stack = serialized.stack
  Object.assign(error, serialized.fields)
  error.name = serialized.name
  return error
}
