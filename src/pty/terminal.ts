import { statSync } from 'node:fs'
import { spawn as spawnPty, type IPty } from 'bun-pty'
import { BadRequestError } from '../http/errors'
import { Scrollback } from './scrollback'
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
}

export type TerminalExit = { code: number | null; signal?: string; durationMs: number }

export type DataListener = (chunk: string) => void
export type ExitListener = (exit: TerminalExit) => void

export const MAX_TERMINAL_SIZE = 1000
const DEFAULT_COLS = 80
const DEFAULT_ROWS = 24
/**
 * bun-pty reads 4096 bytes per FFI call and loops synchronously for as long as data keeps coming,
 * so a flood (`cat` of a big file) would hold the event loop: no WebSocket writes, timers or
 * keystrokes meanwhile. After this many characters in one synchronous burst we stop its loop,
 * hand the burst to listeners as one chunk, and restart the loop from a macrotask.
 */
const BURST_CHARS = 64 * 1024
/** After the kill signals, how long the read loop gets to report the real exit itself. */
const EXIT_REPORT_WAIT_MS = 3000

/** The private bits of bun-pty 0.4.11's Terminal that pacing relies on (the version is pinned). */
type PacedPty = { _readLoop: boolean; _startReadLoop: () => Promise<void> }

function pacingHandle(pty: IPty): PacedPty | undefined {
  const candidate = pty as unknown as Partial<PacedPty>
  if (typeof candidate._readLoop === 'boolean' && typeof candidate._startReadLoop === 'function') return candidate as PacedPty
  console.warn('bun-pty internals changed: terminal output is not paced, a flood may delay other work')
  return undefined
}

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
 * down and reports the real exit (bun-pty's own kill() always claims exit code 0).
 */
export class Terminal {
  readonly pid: number
  readonly exited: Promise<TerminalExit>
  private readonly startedAt = performance.now()
  private readonly pty: IPty
  private readonly paced: PacedPty | undefined
  private readonly history: Scrollback
  private readonly dataListeners = new Set<DataListener>()
  private readonly exitListeners = new Set<ExitListener>()
  private pending: string[] = []
  private burstChars = 0
  private flushQueued = false
  private exitInfo: TerminalExit | undefined
  private settleExit!: (exit: TerminalExit) => void
  private lastSignal: NodeJS.Signals | undefined
  private killing: Promise<void> | undefined
  private disposeRawExit: () => void
  private size: { cols: number; rows: number }

  private constructor(opts: TerminalOptions) {
    this.size = checkTerminalSize(opts.cols ?? DEFAULT_COLS, opts.rows ?? DEFAULT_ROWS)
    this.history = new Scrollback(opts.scrollbackBytes)
    this.exited = new Promise((resolve) => (this.settleExit = resolve))
    this.pty = spawnPty(opts.file, opts.args, { name: 'xterm-256color', cwd: opts.cwd, env: opts.env, ...this.size })
    this.pid = this.pty.pid
    this.paced = pacingHandle(this.pty)
    this.pty.onData((chunk) => this.takeChunk(chunk))
    const rawExit = this.pty.onExit(({ exitCode }) => this.reportExit(exitCode))
    this.disposeRawExit = () => rawExit.dispose()
  }

  static spawn(opts: TerminalOptions): Terminal {
    let isDirectory = false
    try {
      isDirectory = statSync(opts.cwd).isDirectory()
    } catch {
      isDirectory = false
    }
    // portable-pty quietly falls back to the home directory for a missing cwd; refuse instead.
    if (!isDirectory) throw new BadRequestError(`The terminal's working directory ${opts.cwd} does not exist.`, 'bad_cwd')
    try {
      return new Terminal(opts)
    } catch (error) {
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
    this.pty.write(data)
  }

  resize(cols: number, rows: number): void {
    this.size = checkTerminalSize(cols, rows)
    if (this.alive) this.pty.resize(cols, rows)
  }

  onData(listener: DataListener): () => void {
    this.dataListeners.add(listener)
    return () => this.dataListeners.delete(listener)
  }

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
   * listeners only from flush(), so nothing can land between the two, and nothing is doubled.
   */
  subscribe(listener: DataListener): { replay: string; unsubscribe: () => void } {
    return { replay: this.history.text(), unsubscribe: this.onData(listener) }
  }

  scrollback(): string {
    return this.history.text()
  }

  /** Hang up, then SIGTERM, then SIGKILL every process group of the terminal's session. */
  kill(graceMs = 2000): Promise<void> {
    if (!this.alive) return Promise.resolve()
    this.killing ??= this.terminate(graceMs)
    return this.killing
  }

  private async terminate(graceMs: number): Promise<void> {
    // An interactive shell ignores SIGTERM; a hangup is what closing a real terminal sends.
    for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
      this.lastSignal = signal
      signalSession(this.pid, signal)
      if (await this.goneWithin(graceMs / 2)) break
    }
    if (sessionAlive(this.pid)) {
      this.lastSignal = 'SIGKILL'
      signalSession(this.pid, 'SIGKILL')
      await this.goneWithin(2000)
    }
    const timeout = Bun.sleep(EXIT_REPORT_WAIT_MS).then(() => 'timeout' as const)
    if ((await Promise.race([this.exited, timeout])) === 'timeout') this.reportExit(-1)
  }

  private async goneWithin(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms
    while (sessionAlive(this.pid)) {
      if (performance.now() >= deadline) return false
      await Bun.sleep(20)
    }
    return true
  }

  private takeChunk(chunk: string): void {
    this.pending.push(chunk)
    this.burstChars += chunk.length
    if (!this.flushQueued) {
      this.flushQueued = true
      // Runs as soon as bun-pty's loop awaits (idle) or stops (paced): one chunk per burst.
      queueMicrotask(() => this.flush())
    }
    if (this.paced && this.burstChars >= BURST_CHARS && this.alive) {
      const paced = this.paced
      paced._readLoop = false
      setImmediate(() => {
        if (this.alive) void paced._startReadLoop()
      })
    }
  }

  private flush(): void {
    this.flushQueued = false
    this.burstChars = 0
    if (this.pending.length === 0) return
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('')
    this.pending = []
    this.history.append(chunk)
    for (const listener of this.dataListeners) {
      try {
        listener(chunk)
      } catch (error) {
        console.error('terminal data listener failed:', error)
      }
    }
  }

  private reportExit(rawCode: number): void {
    if (this.exitInfo) return
    this.flush()
    // portable-pty reports a child killed by a signal as exit code 1, and -1 while no status was
    // collected: after our own kill, the signal we sent is the truthful answer.
    const killedByUs = this.lastSignal !== undefined && (rawCode === 1 || rawCode < 0)
    const exit: TerminalExit = {
      code: killedByUs || rawCode < 0 ? null : rawCode,
      durationMs: Math.round(performance.now() - this.startedAt),
      ...(killedByUs ? { signal: this.lastSignal } : {}),
    }
    this.exitInfo = exit
    // Frees the native PTY (fds, reader threads). Its own exit event is a fake, so detach first.
    this.disposeRawExit()
    this.pty.kill()
    for (const listener of this.exitListeners) {
      try {
        listener(exit)
      } catch (error) {
        console.error('terminal exit listener failed:', error)
      }
    }
    this.exitListeners.clear()
    this.dataListeners.clear()
    this.settleExit(exit)
  }
}
