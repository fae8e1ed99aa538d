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
  /** Set by the server when it no longer takes output: a worker waiting for room stops waiting. */
  closing: 3,
  /** Bytes of the spawn error's message, stored from ERROR_OFFSET. */
  errorLength: 4,
} as const
export const SPAWN_PENDING = 0
export const SPAWNED = 1
export const SPAWN_FAILED = 2
export const SPAWN_ABANDONED = 3
const SLOTS = 8
export const ERROR_OFFSET = SLOTS * 4
export const ERROR_BYTES = 1024
export const CONTROL_BYTES = ERROR_OFFSET + ERROR_BYTES

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
}

export type ToTerminalThread =
  | SpawnRequest
  | { type: 'write'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  /** The terminal is done with: close the PTY and end the thread. */
  | { type: 'close' }

export type FromTerminalThread =
  | { type: 'data'; text: string }
  /** The process ended and its last output (up to the drain bound) was sent before this. */
  | { type: 'exit'; code: number | null; signal: string | null }
