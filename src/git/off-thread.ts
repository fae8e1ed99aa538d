/**
 * Runs the git layer's bulk operations on worker threads. The workspace copy of 10 000 files and
 * the diff's stat walk ran on the main thread and held every terminal, socket and request of
 * every session for up to 1.7 s; here they hold a worker. Up to two workers (this is a
 * 2-core-sized machine's share), started when first needed, not keeping the process alive.
 * Where no Worker can start, the operations run on the calling thread as before.
 *
 * Only the workspace copy goes here so far. A 10k-file diff in the worker measured 1.2-1.5x the
 * time of the same diff on the main thread (load 17 on 2 cores), and routing diffs here made a
 * test of diff-vs-git hang in the suite for reasons not found in time; diffs stay on the calling
 * thread, whose stat walk already sends a share of its lstat calls to the fs thread pool.
 */
import { cpus } from 'node:os'
import { gitOps, type GitOps, type GitOpName } from './ops'
import { reviveError, type GitReply, type GitRequest } from './worker-protocol'

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; runHere: () => Promise<unknown> }
type GitWorker = { worker: Worker; pending: Map<number, Pending>; answered: boolean }

const MAX_WORKERS = Math.max(1, Math.min(2, cpus().length))
const workers: GitWorker[] = []
let nextId = 1
let unavailable = false

/**
 * The worker's entry: beside this file when run from source; in the compiled binary every module
 * is /$bunfs/root/cockpit-coder and the worker, its own entry point (scripts/build.ts), is
 * /$bunfs/root/git/worker.js.
 */
function workerUrl(): string {
  if (import.meta.path.includes('$bunfs')) return new URL('./git/worker.js', import.meta.url).href
  return new URL('./worker.ts', import.meta.url).href
}

function startWorker(): GitWorker | null {
  try {
    const worker = new Worker(workerUrl())
    const entry: GitWorker = { worker, pending: new Map(), answered: false }
    worker.onmessage = (event: MessageEvent<GitReply>) => {
      const reply = event.data
      const waiting = entry.pending.get(reply.id)
      if (!waiting) return
      entry.pending.delete(reply.id)
      entry.answered = true
      if (reply.ok) waiting.resolve(reply.value)
      else waiting.reject(reviveError(reply.error))
    }
    worker.onerror = (event) => {
      workers.splice(workers.indexOf(entry), 1)
      worker.terminate()
      const held = [...entry.pending.values()]
      entry.pending.clear()
      if (!entry.answered) {
        // It never ran (a build without the worker's entry point): work on this thread from now on.
        unavailable = true
        for (const waiting of held) waiting.runHere().then(waiting.resolve, waiting.reject)
        return
      }
      // A worker that died fails what it held; the next call starts a fresh one.
      for (const waiting of held) waiting.reject(new Error(`git worker failed: ${event.message}`))
    }
    ;(worker as unknown as { unref?: () => void }).unref?.()
    workers.push(entry)
    return entry
  } catch {
    unavailable = true
    return null
  }
}

/** The least busy worker; a new one while all are busy and fewer than MAX_WORKERS run. */
function pickWorker(): GitWorker | null {
  let best: GitWorker | null = null
  for (const entry of workers) if (!best || entry.pending.size < best.pending.size) best = entry
  if ((!best || best.pending.size > 0) && workers.length < MAX_WORKERS) return startWorker() ?? best
  return best
}

export function runOffThread<K extends GitOpName>(op: K, ...args: Parameters<GitOps[K]>): ReturnType<GitOps[K]> {
  const runHere = () => (gitOps[op] as (...a: unknown[]) => ReturnType<GitOps[K]>)(...args)
  const entry = unavailable ? null : pickWorker()
  if (!entry) return runHere()
  const id = nextId++
  const request: GitRequest = { id, op, args }
  return new Promise<unknown>((resolve, reject) => {
    entry.pending.set(id, { resolve, reject, runHere })
    entry.worker.postMessage(request)
  }) as ReturnType<GitOps[K]>
}
