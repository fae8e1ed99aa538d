/**
 * The git worker: runs the layer's bulk operations (diff, status, workspace copy) on its own
 * thread, so a 10 000-file stat walk or copy never holds up a terminal, a socket or a request.
 * Entry point of its own in the compiled binary (scripts/build.ts).
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { gitOps, type GitOpName } from './ops'
import { serializeError, type GitReply, type GitRequest } from './worker-protocol'

declare const self: Worker

/**
 * This thread yields the CPU to the server's own thread (requests, sockets, terminals) when the
 * two compete: Linux gives each thread its own nice value, and raising it needs no privilege.
 * Where the thread's id cannot be read (not Linux), it simply runs at the process's priority.
 */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, WORKER_NICE)
  } catch {
    // no /proc/thread-self: leave the priority alone
  }
}
const WORKER_NICE = 5
lowerThisThreadsPriority()

/** What is running here, so a cancel reaches the operation's signal. */
const running = new Map<number, AbortController>()

self.onmessage = async (event: MessageEvent<GitRequest>) => {
  const request = event.data
  if (request.type === 'cancel') {
    running.get(request.id)?.abort()
    return
  }
  const { id, op, input } = request
  const controller = new AbortController()
  running.set(id, controller)
  let reply: GitReply
  try {
    const run = gitOps[op as GitOpName] as (input: unknown, signal: AbortSignal) => Promise<unknown>
    reply = { id, ok: true, value: await run(input, controller.signal) }
  } catch (error) {
    reply = { id, ok: false, error: serializeError(error) }
  } finally {
    running.delete(id)
  }
  self.postMessage(reply)
}
