import { statSync } from 'node:fs'
import { BadRequestError } from '../errors'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import { Scrollback } from './scrollback'
import { TerminalThread } from './pty-thread'
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
  /**
   * Most characters of output taken from the program per second (averaged over a second); past
   * it the program waits in write() until it is within the rate again. Absent: as fast as the
   * server takes them.
   */
  outputCharsPerSecond?: number
  /** Where a failing listener is reported. */
  logger?: Logger
}

export type TerminalExit = { code: number | null; signal?: string; durationMs: number }

export type DataListener = (chunk: string) => void
export type ExitListener = (exit: TerminalExit) => void

export const MAX_TERMINAL_SIZE = 1000
const DEFAULT_COLS = 80
const DEFAULT_ROWS = 24

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
 * native library, so the compiled binary has nothing to embed. Each terminal's PTY is read on a
 * thread of its own (pty-thread.ts): Bun's read loop holds its thread for as long as a flood lasts.
 */
export class Terminal {
  readonly pid: number
  readonly exited: Promise<TerminalExit>
  private readonly startedAt = performance.now()
  private readonly thread: TerminalThread
  private readonly history: Scrollback
  private readonly dataListeners = new Set<DataListener>()
  private readonly exitListeners = new Set<ExitListener>()
  private exitInfo: TerminalExit | undefined
  private settleExit!: (exit: TerminalExit) => void
  private killing: Promise<void> | undefined
  private size: { cols: number; rows: number }
  private readonly logger: Logger

  private constructor(opts: TerminalOptions) {
    this.size = checkTerminalSize(opts.cols ?? DEFAULT_COLS, opts.rows ?? DEFAULT_ROWS)
    this.logger = opts.logger ?? STANDALONE_LOGGER
    this.history = new Scrollback(opts.scrollbackBytes)
    this.exited = new Promise((resolve) => (this.settleExit = resolve))
    this.thread = TerminalThread.spawn(
      { file: opts.file, args: opts.args, cwd: opts.cwd, env: opts.env, ...this.size, name: opts.env.TERM ?? 'xterm-256color', outputCharsPerSecond: opts.outputCharsPerSecond },
      {
        data: (text) => this.emit(text),
        exit: (code, signal) => void this.finish(code, signal),
        error: (error) => this.logger.error("a terminal's thread failed", { error: describeError(error) }),
      },
    )
    this.pid = this.thread.pid
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

  get cols(): number {
    return this.size.cols
  }

  get rows(): number {
    return this.size.rows
  }

  write(data: string): void {
    if (!this.alive || data.length === 0) return
    this.thread.write(data)
  }

  resize(cols: number, rows: number): void {
    this.size = checkTerminalSize(cols, rows)
    if (this.alive) this.thread.resize(cols, rows)
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

  private emit(chunk: string): void {
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

  /** The process ended and its thread sent the output it left in the PTY (pty-worker.ts). */
  private async finish(code: number | null, signal: string | null): Promise<void> {
    const exit: TerminalExit = {
      code,
      durationMs: Math.round(performance.now() - this.startedAt),
      ...(signal === null ? {} : { signal }),
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
    this.thread.close()
  }
}
