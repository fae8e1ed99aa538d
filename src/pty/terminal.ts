import { statSync } from 'node:fs'
import { BadRequestError } from '../errors'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import { DEFAULT_OUTPUT_PACE, OutputPacer, type OutputPace } from './output-pacer'
import { Scrollback } from './scrollback'
import { Utf8Stream } from './utf8-stream'
import { sessionAlive, signalSession } from './session-processes'

export type TerminalOptions = {
  file: string
  args: string[]
  cwd: string
  /** Must come from buildChildEnv: the PTY child sees exactly this environment. */
  env: Record<string, string>
  cols?: number
  rows?: number
  scrollbackBytes: number
  /** Where a failing listener is reported. */
  logger?: Logger
  /** How fast the program's output is read past a burst (XOFF/XON); default DEFAULT_OUTPUT_PACE. */
  pace?: OutputPace
}

export type TerminalExit = { code: number | null; signal?: string; durationMs: number }

export type DataListener = (chunk: string) => void
export type ExitListener = (exit: TerminalExit) => void

export const MAX_TERMINAL_SIZE = 1000
const DEFAULT_COLS = 80
const DEFAULT_ROWS = 24
/**
 * After the process exits, output still on its way gets until the PTY's EOF, or until none has
 * arrived for this long (something that outlived the process, a `nohup cmd &`, keeps the PTY
 * open), before the exit is reported; never longer than DRAIN_MAX_MS in all.
 */
const DRAIN_QUIET_MS = 250
const DRAIN_MAX_MS = 5000

export function checkTerminalSize(cols: unknown, rows: unknown): { cols: number; rows: number } {
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TERMINAL_SIZE
  if (!ok(cols) || !ok(rows)) {
    throw new BadRequestError(`cols and rows must be whole numbers from 1 to ${MAX_TERMINAL_SIZE}.`, 'bad_terminal_size')
  }
  return { cols, rows }
}

/**
 * One process on a pseudo-terminal: output fanned out to listeners and kept in a bounded
 * scrollback, input and resizes passed through, and a kill that takes the whole process tree
 * down and reports the real exit.
 *
 * Built on Bun's own PTY (`Bun.spawn({ terminal })`), not bun-pty 0.4.11: measured here, bun-pty's
 * Rust reader queues output without bound and drains it with an O(queued) copy per 4 KiB read, so
 * a consumer that falls behind during a flood spirals (200 MB `cat`: 80 MB/s in one run, 14 MB/s
 * in the next, 1.9 MB/s and 320 MB RSS once reads were paced); it polls every 8 ms when idle, and
 * its kill() reports exit code 0 whatever happened. Bun's PTY is read from the event loop when the
 * fd is readable (about the bare-PTY rate), the kernel's PTY buffer throttles the writer, the child
 * is a session leader (pgid = sid = pid), and `exited`/`signalCode` are the real status. It needs no
 * native library, so the compiled binary has nothing to embed.
 *
 * But Bun cannot stop reading a PTY: a flood (`yes`, about 10 MB/s read here) kept the main thread
 * reading and decoding output that /ws/pty then mostly skipped, and another session's keystroke
 * echo waited for it (scripts/bench-echo.ts on 2 cores: flood p99 24-84 ms, max 101-183 ms). So
 * output is paced as a real terminal paces a program it cannot draw as fast (output-pacer.ts):
 * past a 1 MiB burst it is read at 1 MiB/s, the rest held back in the kernel with XOFF/XON while
 * the terminal has IXON (a cooked-mode program: `yes`, `cat`, a build), the writer asleep in
 * write(). Flood p99 then: median 3.6 ms, 1.3-8.1 over 7 runs at load averages 2.5-5.7 (at
 * 2 MiB/s: median 8.0, 1.4-18 over 9 runs; at 4 MiB/s: median 10, 5-47 over 7). Bun reads ahead
 * of its data callbacks (it had read 4.0 MB when one had been handed 3.0 MB), so XOFF lands up to
 * about a megabyte late; the bucket counts that as debt (at most one burst) and pauses longer. A
 * raw-mode program (IXON off: vim, a TUI) would get ^S/^Q as keys, so it is not paced and is read
 * flat out as before. The cost: a program that writes faster than 1 MiB/s waits (50 MB of agent
 * output takes ~47 s).
 */
export class Terminal {
  readonly pid: number
  readonly exited: Promise<TerminalExit>
  private readonly startedAt = performance.now()
  private readonly proc: Bun.Subprocess
  private readonly pty: Bun.Terminal
  private readonly decoder = new Utf8Stream()
  private readonly history: Scrollback
  private readonly dataListeners = new Set<DataListener>()
  private readonly exitListeners = new Set<ExitListener>()
  private exitInfo: TerminalExit | undefined
  private settleExit!: (exit: TerminalExit) => void
  private ptyEnded!: () => void
  private readonly ptyEof = new Promise<void>((resolve) => (this.ptyEnded = resolve))
  private killing: Promise<void> | undefined
  private size: { cols: number; rows: number }
  private readonly logger: Logger
  private readonly pacer: OutputPacer
  /** When output last arrived (the drain after an exit waits for it to stop). */
  private lastOutputAt = performance.now()

  private constructor(opts: TerminalOptions) {
    this.size = checkTerminalSize(opts.cols ?? DEFAULT_COLS, opts.rows ?? DEFAULT_ROWS)
    this.logger = opts.logger ?? STANDALONE_LOGGER
    this.history = new Scrollback(opts.scrollbackBytes)
    this.exited = new Promise((resolve) => (this.settleExit = resolve))
    this.proc = Bun.spawn([opts.file, ...opts.args], {
      cwd: opts.cwd,
      env: opts.env,
      terminal: {
        ...this.size,
        name: opts.env.TERM ?? 'xterm-256color',
        data: (_pty, bytes) => {
          this.pacer.read(bytes.length)
          this.emit(this.decoder.decode(bytes))
        },
        exit: () => this.ptyEnded(),
      },
    })
    const pty = this.proc.terminal
    if (!pty) throw new Error('Bun did not attach a terminal to the process')
    this.pty = pty
    this.pid = this.proc.pid
    this.pacer = new OutputPacer(opts.pace ?? DEFAULT_OUTPUT_PACE, {
      inputFlags: () => (pty.closed ? 0 : pty.inputFlags),
      localFlags: () => (pty.closed ? 0 : pty.localFlags),
      send: (char) => {
        if (this.alive && !pty.closed) pty.write(char)
      },
    })
    void this.proc.exited.then(() => this.finish())
  }

  /** Starts `file` (not through a shell) on a new PTY in `cwd`. Throws if either does not exist. */
  static spawn(opts: TerminalOptions): Terminal {
    let isDirectory = false
    try {
      isDirectory = statSync(opts.cwd).isDirectory()
    } catch {
      isDirectory = false
    }
    if (!isDirectory) throw new BadRequestError(`The terminal's working directory ${opts.cwd} does not exist.`, 'bad_cwd')
    try {
      return new Terminal(opts)
    } catch (error) {
      if (error instanceof BadRequestError) throw error
      throw new Error(`could not start ${opts.file} on a pseudo-terminal: ${(error as Error).message}`, { cause: error })
    }
  }

  get alive(): boolean {
    return this.exitInfo === undefined
  }

  /** How many times output was held back for the pace (see OutputPacer). */
  get outputPauses(): number {
    return this.pacer.pauses
  }

  /** Output is held back for the pace right now. */
  get outputHeld(): boolean {
    return this.pacer.pausing
  }

  get cols(): number {
    return this.size.cols
  }

  get rows(): number {
    return this.size.rows
  }

  write(data: string): void {
    if (!this.alive || data.length === 0 || this.pty.closed) return
    this.pacer.typed(data)
    this.pty.write(data)
  }

  resize(cols: number, rows: number): void {
    this.size = checkTerminalSize(cols, rows)
    if (this.alive && !this.pty.closed) this.pty.resize(cols, rows)
  }

  onData(listener: DataListener): () => void {
    this.dataListeners.add(listener)
    return () => this.dataListeners.delete(listener)
  }

  /** Called once with the exit; a listener added after the exit is called on the next microtask. */
  onExit(listener: ExitListener): () => void {
    const exit = this.exitInfo
    if (exit) {
      queueMicrotask(() => listener(exit))
      return () => {}
    }
    this.exitListeners.add(listener)
    return () => this.exitListeners.delete(listener)
  }

  /**
   * The scrollback and a live subscription taken in one synchronous step: output reaches
   * listeners and the scrollback together in emit(), so nothing can land between the two and
   * nothing is doubled.
   */
  subscribe(listener: DataListener): { replay: string; unsubscribe: () => void } {
    return { replay: this.history.text(), unsubscribe: this.onData(listener) }
  }

  scrollback(): string {
    return this.history.text()
  }

  /** About the newest maxChars of the scrollback, from a line start (a repaint after skipped output). */
  scrollbackTail(maxChars: number): string {
    return this.history.tail(maxChars)
  }

  /** Hang up, then SIGTERM, then SIGKILL every process group of the terminal's session. */
  kill(graceMs = 2000): Promise<void> {
    if (!this.alive) return Promise.resolve()
    this.killing ??= this.terminate(graceMs).then(() => this.exited.then(() => undefined))
    return this.killing
  }

  private async terminate(graceMs: number): Promise<void> {
    // A program paused by XOFF that prints on SIGHUP/SIGTERM would block until SIGKILL.
    this.pacer.release()
    // An interactive shell ignores SIGTERM; a hangup is what closing a real terminal sends.
    for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
      signalSession(this.pid, signal)
      if (await this.goneWithin(graceMs / 2)) return
    }
    signalSession(this.pid, 'SIGKILL')
    await this.goneWithin(2000)
  }

  private async goneWithin(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms
    while (sessionAlive(this.pid)) {
      if (performance.now() >= deadline) return false
      await Bun.sleep(20)
    }
    return true
  }

  /** Resolves once no output has arrived for DRAIN_QUIET_MS, or DRAIN_MAX_MS from now. */
  private async outputQuiet(): Promise<void> {
    const deadline = performance.now() + DRAIN_MAX_MS
    for (;;) {
      const quietAt = this.lastOutputAt + DRAIN_QUIET_MS
      const now = performance.now()
      if (now >= quietAt || now >= deadline) return
      await Bun.sleep(Math.min(quietAt, deadline) - now)
    }
  }

  private emit(chunk: string): void {
    this.lastOutputAt = performance.now()
    if (chunk.length === 0) return
    this.history.append(chunk)
    for (const listener of this.dataListeners) {
      try {
        listener(chunk)
      } catch (error) {
        this.logger.error('terminal data listener failed', { pid: this.pid, error: describeError(error) })
      }
    }
  }

  private async finish(): Promise<void> {
    // Output the pacer held back when the program exited is still in the PTY: let it go at once,
    // or the drain below could end before it arrives and the program's last lines would be lost
    // (seen in CI: `seq` lost its last bytes). Whatever is left in the session (a background job)
    // may then write unpaced until it is stopped below.
    this.pacer.release()
    // Output written just before the exit may still sit in the PTY or in Bun's read buffer:
    // deliver it before the exit. A fixed 250 ms from the exit lost the last bytes of a paced
    // `seq` once in CI, on a loaded machine: the wait now runs while output keeps coming.
    await Promise.race([this.ptyEof, this.outputQuiet()])
    // The EOF may be seen before the last bytes read are handed over: one more turn for them.
    await new Promise((resolve) => setImmediate(resolve))
    this.emit(this.decoder.end())
    const signal = this.proc.signalCode
    const exit: TerminalExit = {
      code: signal === null ? this.proc.exitCode : null,
      durationMs: Math.round(performance.now() - this.startedAt),
      ...(signal === null ? {} : { signal: String(signal) }),
    }
    this.exitInfo = exit
    for (const listener of this.exitListeners) {
      try {
        listener(exit)
      } catch (error) {
        this.logger.error('terminal exit listener failed', { pid: this.pid, error: describeError(error) })
      }
    }
    this.exitListeners.clear()
    this.dataListeners.clear()
    this.settleExit(exit)
    // The process tree goes with its terminal, even what it left running in the background.
    if (sessionAlive(this.pid)) await this.terminate(500)
    this.pty.close()
  }
}
