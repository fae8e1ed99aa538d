/**
 * A terminal's own thread: it owns one PTY (Bun's, through `Bun.spawn({ terminal })`) and its
 * process, reads the output, and posts it to the server as text. Entry point of its own in the
 * compiled binary (scripts/build.ts); pty-thread.ts says why each terminal has one.
 */
import { writeFileSync } from 'node:fs'
import { Utf8Stream } from './utf8-stream'
import {
  SLOT,
  SPAWN_ABANDONED,
  SPAWN_FAILED,
  SPAWN_PENDING,
  SPAWNED,
  storeSpawnError,
  type FromTerminalThread,
  type SpawnRequest,
  type ToTerminalThread,
} from './thread-protocol'

declare const self: Worker

/**
 * Output posted and not yet taken by the server, past which this thread stops reading until the
 * server catches up: then the kernel's PTY buffer fills and the program's write() waits, as on a
 * real terminal. So the queue of messages between the threads has a bound, whatever the program
 * prints and however busy the server is. Bun reads a flooding PTY in chunks of up to 256 KiB.
 */
const MAX_IN_FLIGHT_CHARS = 512 * 1024
/** After the process exits, how long output still in the PTY gets to arrive before the exit is reported. */
const DRAIN_AFTER_EXIT_MS = 250

// Named, so `top -H` and /proc tell a terminal's thread from the git workers (Linux only).
try {
  writeFileSync('/proc/thread-self/comm', 'terminal')
} catch {
  // no /proc/thread-self: the thread keeps Bun's name for it
}

let control: Int32Array | undefined
let pty: Bun.Terminal | undefined
let pace: ((chars: number) => void) | undefined

function post(message: FromTerminalThread): void {
  postMessage(message)
}

function sendOutput(text: string): void {
  if (text.length === 0 || !control) return
  Atomics.add(control, SLOT.inFlight, text.length)
  post({ type: 'data', text })
  // Waiting here holds Bun's read loop, which called us: nothing more is read from the PTY.
  for (let queued = Atomics.load(control, SLOT.inFlight); queued > MAX_IN_FLIGHT_CHARS; queued = Atomics.load(control, SLOT.inFlight)) {
    if (Atomics.load(control, SLOT.closing) !== 0) return
    Atomics.wait(control, SLOT.inFlight, queued, 1000)
  }
  pace?.(text.length)
}

/**
 * A budget of `charsPerSecond` that refills continuously and holds at most one second of it:
 * output past it makes this thread wait (holding Bun's read loop, as above) until the budget is
 * back to zero. The program then waits in write(): its output is slowed, never dropped.
 */
function outputPace(shared: Int32Array, charsPerSecond: number): (chars: number) => void {
  let budget = charsPerSecond
  let refilledAt = performance.now()
  return (chars) => {
    const now = performance.now()
    budget = Math.min(charsPerSecond, budget + ((now - refilledAt) / 1000) * charsPerSecond) - chars
    refilledAt = now
    if (budget >= 0) return
    if (Atomics.load(shared, SLOT.closing) === 0) Atomics.wait(shared, SLOT.closing, 0, (-budget / charsPerSecond) * 1000)
    budget = 0
    refilledAt = performance.now()
  }
}

function failSpawn(shared: Int32Array, error: unknown): void {
  storeSpawnError(shared, error)
  Atomics.compareExchange(shared, SLOT.state, SPAWN_PENDING, SPAWN_FAILED)
  Atomics.notify(shared, SLOT.state)
  process.exit(0)
}

function spawn(request: SpawnRequest): void {
  const shared = new Int32Array(request.control)
  // The server stopped waiting before this thread got to the request: start nothing.
  if (Atomics.load(shared, SLOT.state) === SPAWN_ABANDONED) process.exit(0)
  const decoder = new Utf8Stream()
  let ptyEnded!: () => void
  const ptyEof = new Promise<void>((resolve) => (ptyEnded = resolve))
  let proc: Bun.Subprocess
  try {
    proc = Bun.spawn([request.file, ...request.args], {
      cwd: request.cwd,
      env: request.env,
      terminal: {
        cols: request.cols,
        rows: request.rows,
        name: request.name,
        data: (_pty, bytes) => sendOutput(decoder.decode(bytes)),
        exit: () => ptyEnded(),
      },
    })
    if (!proc.terminal) throw new Error('Bun did not attach a terminal to the process')
  } catch (error) {
    failSpawn(shared, error)
    return
  }
  Atomics.store(shared, SLOT.pid, proc.pid)
  if (Atomics.compareExchange(shared, SLOT.state, SPAWN_PENDING, SPAWNED) === SPAWN_ABANDONED) {
    // The server stopped waiting before this spawn answered: nobody owns the process, so it goes
    // (a session leader: its group is its pid), collected here so it leaves no zombie behind.
    process.kill(-proc.pid, 'SIGKILL')
    void proc.exited.then(() => process.exit(0))
    return
  }
  Atomics.notify(shared, SLOT.state)
  control = shared
  pty = proc.terminal
  if (request.outputCharsPerSecond !== undefined) pace = outputPace(shared, request.outputCharsPerSecond)
  void proc.exited.then(async () => {
    // Output written just before the exit may still sit in the PTY: deliver it before the exit.
    // Something that outlived the process (a `nohup cmd &`) keeps the PTY open, hence the bound.
    await Promise.race([ptyEof, Bun.sleep(DRAIN_AFTER_EXIT_MS)])
    sendOutput(decoder.end())
    const signal = proc.signalCode
    post({ type: 'exit', code: signal === null ? proc.exitCode : null, signal: signal === null ? null : String(signal) })
  })
}

self.onmessage = (event: MessageEvent<ToTerminalThread>) => {
  const message = event.data
  switch (message.type) {
    case 'spawn':
      spawn(message)
      return
    case 'write':
      if (pty && !pty.closed) pty.write(message.data)
      return
    case 'resize':
      if (pty && !pty.closed) pty.resize(message.cols, message.rows)
      return
    case 'close':
      pty?.close()
      process.exit(0)
  }
}
