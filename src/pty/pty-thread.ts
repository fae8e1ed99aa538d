/**
 * A terminal's PTY and process live on a thread of their own (pty-worker.ts), one per terminal.
 *
 * Why: Bun reads a PTY in a loop that returns to the event loop only once a read finds nothing
 * waiting, and its data callback cannot ask it to pause. A program that prints without end
 * (`yes`, a runaway log) keeps the loop reading, so on the server's thread every other terminal,
 * socket, timer and request waited: measured here, a 1 ms timer fired 37-45 ms late at p99 (max
 * 87-130 ms) while Bun read `yes` with a callback that did nothing, and keystroke echo in another
 * session had a p99 of 87-212 ms. On its own thread the loop holds only its own terminal; the
 * server gets the text as messages, and the shared in-flight count (pty-worker.ts) makes the
 * program wait when the server falls behind, instead of the queue between them growing.
 *
 * The cost: a thread is about 2 MB, and starting one about 10-15 ms (compiled binary; 50 from
 * source). So one is kept started and idle for the next terminal, and the server waits for the
 * spawn's answer in one synchronous step (a few ms, about what `Bun.spawn` itself took on the
 * server's thread): a terminal stays something that exists, with its pid, once it is returned,
 * and a program that cannot start fails the call that asked for it.
 */
import {
  CONTROL_BYTES,
  SLOT,
  SPAWN_ABANDONED,
  SPAWN_FAILED,
  SPAWN_PENDING,
  SPAWNED,
  spawnError,
  type FromTerminalThread,
  type SpawnRequest,
  type ToTerminalThread,
} from './thread-protocol'
import { binaryEntryUrl } from '../entry-points'

export type TerminalThreadEvents = {
  data: (text: string) => void
  /** `code` is null when a signal ended the process (or the thread was lost). */
  exit: (code: number | null, signal: string | null) => void
  /** The thread failed on its own (the exit is reported too). */
  error: (error: unknown) => void
}

/** How long a spawn may take before the server stops waiting; only a machine in trouble gets near it. */
const SPAWN_TIMEOUT_MS = 5000

/** The worker's entry: its own entry point in the compiled binary (src/entry-points.ts), else beside this file. */
function workerUrl(): string {
  return binaryEntryUrl('pty/worker.js') ?? new URL('./pty-worker.ts', import.meta.url).href
}

/** Bun's Worker, with the ref/unref the DOM's type does not declare. */
type BunWorker = Worker & { ref(): void; unref(): void }

/** A started, idle thread for the next terminal; it does not keep the process alive. */
let spare: BunWorker | undefined

function startThread(): BunWorker {
  const worker = new Worker(workerUrl()) as BunWorker
  worker.unref()
  return worker
}

/**
 * Starts the idle thread ahead of the first terminal, whose spawn would otherwise wait for a
 * thread to start (41 ms for the first terminal of a compiled server on a busy machine).
 */
export function warmTerminalThread(): void {
  spare ??= startThread()
}

function takeThread(): BunWorker {
  const worker = spare ?? startThread()
  spare = undefined
  return worker
}

export class TerminalThread {
  readonly pid: number
  private ended = false

  private constructor(
    private readonly worker: Worker,
    private readonly control: Int32Array,
    events: TerminalThreadEvents,
  ) {
    this.pid = Atomics.load(control, SLOT.pid)
    worker.onmessage = (event: MessageEvent<FromTerminalThread>) => {
      const message = event.data
      if (message.type === 'data') {
        try {
          events.data(message.text)
        } finally {
          Atomics.sub(control, SLOT.inFlight, message.text.length)
          Atomics.notify(control, SLOT.inFlight)
        }
        return
      }
      this.end()
      events.exit(message.code, message.signal)
    }
    // A thread that fails or ends without reporting the exit still ends the terminal.
    const lost = (error: unknown) => {
      if (this.ended) return
      this.end()
      events.error(error)
      events.exit(null, null)
    }
    worker.onerror = (event) => lost(event.error ?? new Error(event.message))
    worker.addEventListener('close', () => lost(new Error("the terminal's thread ended")))
  }

  /** Starts `file` on a PTY of its own thread; throws what the spawn threw. */
  static spawn(request: Omit<SpawnRequest, 'type' | 'control'>, events: TerminalThreadEvents, timeoutMs = SPAWN_TIMEOUT_MS): TerminalThread {
    const control = new SharedArrayBuffer(CONTROL_BYTES)
    const shared = new Int32Array(control)
    const worker = takeThread()
    worker.postMessage({ type: 'spawn', control, ...request } satisfies ToTerminalThread)
    Atomics.wait(shared, SLOT.state, SPAWN_PENDING, timeoutMs)
    // Stop waiting in one step with the worker's answer: a spawn that lands after it sees
    // SPAWN_ABANDONED and kills its process instead of leaving it to nobody. At once: starting the
    // next thread first (below) took milliseconds in which a late answer still counted.
    const answered = Atomics.compareExchange(shared, SLOT.state, SPAWN_PENDING, SPAWN_ABANDONED)
    const state = answered === SPAWN_PENDING ? SPAWN_ABANDONED : answered
    // The next terminal's thread starts now, off this one's path.
    warmTerminalThread()
    if (state === SPAWN_FAILED) throw spawnError(shared)
    if (state !== SPAWNED) {
      void worker.terminate()
      throw new Error(`its thread did not start within ${timeoutMs / 1000} s`)
    }
    // A live terminal keeps the process alive, as its process did on the server's thread.
    worker.ref()
    return new TerminalThread(worker, shared, events)
  }

  write(data: string): void {
    if (!this.ended) this.post({ type: 'write', data })
  }

  resize(cols: number, rows: number): void {
    if (!this.ended) this.post({ type: 'resize', cols, rows })
  }

  /** Closes the PTY and ends the thread; output not yet taken is dropped. */
  close(): void {
    if (!this.ended) this.end()
    this.post({ type: 'close' })
  }

  private end(): void {
    this.ended = true
    // A thread waiting for room or for its rate stops waiting.
    Atomics.store(this.control, SLOT.closing, 1)
    Atomics.notify(this.control, SLOT.inFlight)
    Atomics.notify(this.control, SLOT.closing)
  }

  private post(message: ToTerminalThread): void {
    this.worker.postMessage(message)
  }
}
