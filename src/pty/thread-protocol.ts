/**
 * What the server's thread and a terminal's thread (pty-worker.ts) say to each other. The spawn
 * is answered through shared memory, not a message, so the server can wait for it in one
 * synchronous step (pty-thread.ts says why); everything after it is messages, plus one shared
 * counter of output in flight that bounds the messages the terminal's thread may queue.
 */

/** Slots of the shared Int32Array. */
export const SLOT = {
  /** SPAWN_PENDING until the worker answers the spawn (SPAWNED, SPAWN_FAILED) or the server stops waiting (SPAWN_ABANDONED). */
  state: 0,
  pid: 1,
  /** Characters of output posted to the server and not yet taken by it. */
  inFlight: 2,
  /** Set by the server when it no longer takes output: a worker waiting (for room, or for its rate) stops waiting. */
  closing: 3,
  /** Bytes of the spawn error's message (storeSpawnError). */
  errorLength: 4,
} as const
export const SPAWN_PENDING = 0
export const SPAWNED = 1
export const SPAWN_FAILED = 2
export const SPAWN_ABANDONED = 3
const SLOTS = 8
const ERROR_OFFSET = SLOTS * 4
const ERROR_BYTES = 1024
export const CONTROL_BYTES = ERROR_OFFSET + ERROR_BYTES

/** Stores why the spawn failed (its first ERROR_BYTES bytes) for the server to read. */
export function storeSpawnError(shared: Int32Array, error: unknown): void {
  const message = new TextEncoder().encode(String((error as Error)?.message ?? error)).subarray(0, ERROR_BYTES)
  new Uint8Array(shared.buffer, ERROR_OFFSET, ERROR_BYTES).set(message)
  Atomics.store(shared, SLOT.errorLength, message.length)
}

/** What storeSpawnError stored. */
export function spawnError(shared: Int32Array): Error {
  const length = Math.min(ERROR_BYTES, Atomics.load(shared, SLOT.errorLength))
  return new Error(new TextDecoder().decode(new Uint8Array(shared.buffer, ERROR_OFFSET, length).slice()))
}

export type SpawnRequest = {
  type: 'spawn'
  control: SharedArrayBuffer
  file: string
  args: string[]
  cwd: string
  env: Record<string, string>
  cols: number
  rows: number
  name: string
  /** Most characters of output read per second (averaged over a second); absent: as fast as the server takes them. */
  outputCharsPerSecond?: number
}

export type ToTerminalThread =
  | SpawnRequest
  | { type: 'write'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  /** The terminal is done with: close the PTY and end the thread. */
  | { type: 'close' }

export type FromTerminalThread =
  | { type: 'data'; text: string }
  /** The process ended and its last output (up to the drain bound) was sent before this; `code` is null when a signal ended it. */
  | { type: 'exit'; code: number | null; signal: string | null }
