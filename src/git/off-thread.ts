/**
 * Runs the git layer's bulk operations (diff, status, workspace copy) on worker threads. On the
 * main thread a 10k-file workspace copy held every terminal, socket and request of every session
 * for up to 1.7 s, and 3 workspaces plus 5 diffs at once for 4.1 s (a /healthz poller in another
 * process, quiet machine); here they hold a worker. Up to two workers (a 2-core machine's share),
 * started when first needed; a worker keeps the process alive only while it has work.
 *
 * Bounded: each worker runs a few operations at once (they interleave at their awaits) and the
 * rest wait here, up to MAX_QUEUED, beyond which a call fails with 503 rather than pile up.
 * Cancellable: an aborted signal takes a waiting operation out of the queue, and a running one
 * is told to stop (the workspace copy stops between files) while its caller stops waiting.
 * The server's shutdown (holdGitWorkers) fails what is left and terminates the workers.
 * Where no Worker can start (a build without the worker's entry), operations run on the calling
 * thread as before.
 */
import { cpus } from 'node:os'
import { ServiceUnavailableError } from '../errors'
import { gitOps, type GitOps, type GitOpInput, type GitOpName } from './ops'
import { reviveError, type GitReply, type GitRequest } from './worker-protocol'
import { binaryEntryUrl } from '../entry-points'

type Job = {
  id: number
  op: GitOpName
  input: { repoDir: string }
  /** Operations on one repository go to one worker while it lives: its parsed index and trees stay warm. Null: any worker. */
  affinity: string | null
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  runHere: () => Promise<unknown>
  settled: boolean
  detach: () => void
}
type GitWorker = { worker: Worker; running: Map<number, Job>; answered: boolean }

const MAX_WORKERS = Math.max(1, Math.min(2, cpus().length))
/** Operations one worker runs at once; more would only stretch each of them. */
const PER_WORKER = 4
/** Operations waiting for a worker; past this a call fails (503) instead of queueing without bound. */
export const MAX_QUEUED = 256

const workers: GitWorker[] = []
const queue: Job[] = []
const homes = new Map<string, GitWorker>()
let nextId = 1
let unavailable = false

/** The worker's entry: its own entry point in the compiled binary (src/entry-points.ts), else beside this file. */
function workerUrl(): string {
  return binaryEntryUrl('git/worker.js') ?? new URL('./worker.ts', import.meta.url).href
}

// Settling from a task of its own, not from inside the worker's message dispatch: bun:test's
// `await expect(p).rejects/resolves`, reached from the continuation of an earlier worker reply,
// never sees a later reply (oven-sh/bun#37189, #43819; it hung test/git/diff-vs-git.test.ts).
function settle(job: Job, ok: boolean, value: unknown): void {
  if (job.settled) return
  job.settled = true
  job.detach()
  setImmediate(() => (ok ? job.resolve(value) : job.reject(value as Error)))
}

function setRef(entry: GitWorker): void {
  const w = entry.worker as unknown as { ref?: () => void; unref?: () => void }
  if (entry.running.size > 0) w.ref?.()
  else w.unref?.()
}

function forget(entry: GitWorker): void {
  const at = workers.indexOf(entry)
  if (at >= 0) workers.splice(at, 1)
  for (const [key, home] of homes) if (home === entry) homes.delete(key)
}

function startWorker(): GitWorker | null {
  let worker: Worker
  try {
    worker = new Worker(workerUrl())
  } catch {
    unavailable = true
    return null
  }
  const entry: GitWorker = { worker, running: new Map(), answered: false }
  worker.onmessage = (event: MessageEvent<GitReply>) => {
    const reply = event.data
    entry.answered = true
    const job = entry.running.get(reply.id)
    entry.running.delete(reply.id)
    setRef(entry)
    if (job) settle(job, reply.ok, reply.ok ? reply.value : reviveError(reply.error))
    pump()
  }
  worker.onerror = (event) => {
    forget(entry)
    worker.terminate()
    const held = [...entry.running.values()]
    entry.running.clear()
    if (!entry.answered) {
      // It never ran (a build without the worker's entry point): work on this thread from now on.
      unavailable = true
      for (const job of [...held, ...queue.splice(0)]) job.runHere().then((v) => settle(job, true, v), (e: Error) => settle(job, false, e))
      return
    }
    // A worker that died fails what it held; the next operation starts a fresh one.
    for (const job of held) settle(job, false, new Error(`git worker failed: ${event.message}`))
    pump()
  }
  workers.push(entry)
  setRef(entry)
  return entry
}

/** The worker for a job: its repository's while that one has room, else the least busy, else a new one. */
function workerFor(job: Job): GitWorker | null {
  const home = job.affinity === null ? undefined : homes.get(job.affinity)
  if (home && home.running.size < PER_WORKER) return home
  let best: GitWorker | null = null
  for (const entry of workers) if (!best || entry.running.size < best.running.size) best = entry
  if ((!best || best.running.size > 0) && workers.length < MAX_WORKERS) best = startWorker() ?? best
  if (!best || best.running.size >= PER_WORKER) return null
  if (job.affinity === null) return best
  if (homes.size > 64) homes.delete(homes.keys().next().value!)
  homes.set(job.affinity, best)
  return best
}

function pump(): void {
  while (queue.length > 0 && !unavailable) {
    const entry = workerFor(queue[0]!)
    if (!entry) break
    const job = queue.shift()!
    entry.running.set(job.id, job)
    setRef(entry)
    const request: GitRequest = { type: 'run', id: job.id, op: job.op, input: job.input }
    entry.worker.postMessage(request)
  }
  if (unavailable) for (const job of queue.splice(0)) job.runHere().then((v) => settle(job, true, v), (e: Error) => settle(job, false, e))
}

/**
 * Operations that gain nothing from a worker's warm caches go to the least busy worker. The quota's
 * walk after a turn ran on the same worker as the turn's diff (same directory), one after the
 * other at their synchronous parts; on the other worker the two overlap.
 */
const UNPINNED: ReadonlySet<GitOpName> = new Set(['measureTree'])

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new DOMException('The git operation was aborted.', 'AbortError')
}

/** Runs `op` on a git worker; `signal` takes it out of the queue or tells the worker to stop. */
export function runOffThread<K extends GitOpName>(op: K, input: GitOpInput<K>, signal?: AbortSignal): ReturnType<GitOps[K]> {
  const runHere = () => (gitOps[op] as (input: unknown, signal?: AbortSignal) => Promise<unknown>)(input, signal)
  if (signal?.aborted) return Promise.reject(abortError(signal)) as ReturnType<GitOps[K]>
  if (unavailable) return runHere() as ReturnType<GitOps[K]>
  if (queue.length >= MAX_QUEUED) {
    return Promise.reject(new ServiceUnavailableError('Too many git operations are waiting; try again shortly.', 'git_busy')) as ReturnType<GitOps[K]>
  }
  return new Promise<unknown>((resolve, reject) => {
    const job: Job = { id: nextId++, op, input, affinity: UNPINNED.has(op) ? null : input.repoDir, resolve, reject, runHere, settled: false, detach: () => {} }
    if (signal) {
      const onAbort = () => {
        const waiting = queue.indexOf(job)
        if (waiting >= 0) queue.splice(waiting, 1)
        for (const entry of workers) if (entry.running.has(job.id)) entry.worker.postMessage({ type: 'cancel', id: job.id } satisfies GitRequest)
        settle(job, false, abortError(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      job.detach = () => signal.removeEventListener('abort', onAbort)
    }
    queue.push(job)
    pump()
  }) as ReturnType<GitOps[K]>
}

/** Operations waiting for a worker and running on one (for tests and diagnostics). */
export function gitWorkLoad(): { workers: number; queued: number; running: number } {
  return { workers: workers.length, queued: queue.length, running: workers.reduce((n, w) => n + w.running.size, 0) }
}

let holders = 0

/**
 * A server holds the workers while it runs; when the last holder lets go (its shutdown), what is
 * waiting or running fails with 503 and the workers are terminated. A later call starts new ones.
 * Several servers in one process (tests) each hold them, so one's shutdown leaves the others' work alone.
 */
export function holdGitWorkers(): () => void {
  holders++
  let held = true
  return () => {
    if (!held) return
    held = false
    if (--holders === 0) stopGitWorkers()
  }
}

/** Fails what is waiting or running and terminates the workers. */
export function stopGitWorkers(): void {
  const stopping = new ServiceUnavailableError('The server is shutting down.', 'shutting_down')
  for (const job of queue.splice(0)) settle(job, false, stopping)
  for (const entry of workers.splice(0)) {
    for (const job of entry.running.values()) settle(job, false, stopping)
    entry.running.clear()
    entry.worker.terminate()
  }
  homes.clear()
}
