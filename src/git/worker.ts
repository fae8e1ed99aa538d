/**
 * The git worker: runs the layer's bulk operations (diff, status, workspace copy) on its own
 * thread, so a 10 000-file stat walk or copy never holds up a terminal, a socket or a request.
 * Entry point of its own in the compiled binary (scripts/build.ts).
 */
import { gitOps, type GitOpName } from './ops'
import { serializeError, type GitReply, type GitRequest } from './worker-protocol'

declare const self: Worker

self.onmessage = async (event: MessageEvent<GitRequest>) => {
  const { id, op, args } = event.data
  let reply: GitReply
  try {
    const run = gitOps[op as GitOpName] as (...a: unknown[]) => Promise<unknown>
    reply = { id, ok: true, value: await run(...args) }
  } catch (error) {
    reply = { id, ok: false, error: serializeError(error) }
  }
  self.postMessage(reply)
}
