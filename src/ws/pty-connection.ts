import { constants } from 'node:os'
import type { Session } from '../session'
import { CLOSE, type ClientSocket } from './client-socket'
import type { TerminalManager, TerminalViewer } from '../pty/manager'
import type { Terminal, TerminalExit } from '../pty/terminal'
import { frameProblem, PTY_CLIENT_FRAMES, type ServerFrames } from './frames'

/** The `exit` frame: `code` stays a number for clients, 128 + signal as shells report it. */
export function exitFrame(frames: ServerFrames, exit: TerminalExit): string {
  const signalNumber = exit.signal ? (constants.signals as Record<string, number>)[exit.signal] : undefined
  const code = exit.code ?? (signalNumber === undefined ? -1 : 128 + signalNumber)
  return frames.ptyExit({ code, durationMs: exit.durationMs, ...(exit.signal ? { signal: exit.signal } : {}) })
}

type ClientFrame = { kind: 'resize'; cols: number; rows: number } | { kind: 'input'; data: string } | { kind: 'bad_resize'; message: string }

/**
 * What a text frame from the app's terminal page means. Only a JSON `resize` or `input` object is
 * a command; everything else (keystrokes, pasted text that happens to be JSON) is typed as it is.
 */
export function readPtyFrame(text: string): ClientFrame {
  if (!text.startsWith('{')) return { kind: 'input', data: text }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { kind: 'input', data: text }
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'input', data: text }
  const frame = parsed as Record<string, unknown>
  if (frame.type === 'input' && frameProblem(PTY_CLIENT_FRAMES.input, frame) === null) return { kind: 'input', data: frame.data as string }
  if (frame.type === 'resize') {
    // A malformed resize is neither a size nor something the user typed: it is answered the way
    // /ws/events answers it, with an error frame.
    const problem = frameProblem(PTY_CLIENT_FRAMES.resize, frame)
    if (problem) return { kind: 'bad_resize', message: `The resize frame is not valid: ${problem}.` }
    return { kind: 'resize', cols: frame.cols as number, rows: frame.rows as number }
  }
  return { kind: 'input', data: text }
}

export type PtyFlowOptions = {
  /** Queued output past which a client stops getting live output until it catches up. */
  lagBytes: number
  /** A lagging client is resynchronised once its queue is below this. */
  resyncBytes: number
  /** A client that takes nothing for this long while lagging is dropped (1013). */
  stuckMs: number
  /** Live output one client gets per second from one terminal, past its burst; the rest is skipped to a repaint. */
  liveBytesPerSecond: number
  /** Output a client gets at once before the rate applies (a `cat` of a small file arrives whole). */
  burstBytes: number
}

/**
 * Measured with scripts/bench-echo.ts (2 cores): keystroke echo in one session is slow exactly
 * when another session's `yes` reaches its client fast (p99 14-33 ms at 6 MB of flood output per
 * run, 100-310 ms at 17-50 MB): every byte forwarded costs the server, the flooding client and the
 * machine CPU that the other session's echo then waits for. No one reads 1 MiB of text a second,
 * so past that a client is sent the screen (a repaint) instead of every line.
 */
export const DEFAULT_PTY_FLOW: PtyFlowOptions = {
  lagBytes: 2 * 1024 * 1024,
  resyncBytes: 256 * 1024,
  stuckMs: 10_000,
  liveBytesPerSecond: 1024 * 1024,
  burstBytes: 512 * 1024,
}

/** The shortest wait before a repaint after output was skipped. */
const MIN_CATCH_UP_MS = 50
/**
 * What a repaint after skipped output sends: the newest lines, well past any screen. The whole
 * scrollback (256 KiB by default) four times a second cost the server a join and the client a
 * parse of each; a lagging client's resync and a reconnect still get all of it.
 */
const REPAINT_CHARS = 64 * 1024

/** Full reset (RIS): the client's screen starts over before the scrollback repaints it. */
const RESET = '\x1bc'

/**
 * One `/ws/pty` client: the replay then live output of the session's shell (or of a task's agent
 * terminal), input and resizes back into it, and the `exit` frame and close when the process ends.
 *
 * A terminal stream may skip but must never tear, and the shell must not wait for the slowest
 * viewer. So a client that falls lagBytes behind (a phone on a slow link during `cat big.log`)
 * stops getting live output; once its queue drains it gets a reset and the scrollback, exactly
 * what a reconnect would show, and live output again. One that takes nothing for stuckMs is
 * dropped with 1013. Server memory per client stays at most lagBytes plus one chunk.
 *
 * A terminal that floods (`yes`, a runaway log) is forwarded at most liveBytesPerSecond (after a
 * burst): past it, its output is skipped and the client gets a repaint (reset + the newest lines
 * of the scrollback) once the budget allows, and at the exit. So a flooding session costs a bounded amount of sending per
 * second and cannot starve other sessions' terminals; nothing is torn, only skipped.
 */
export class PtyConnection implements TerminalViewer {
  private readonly decoder = new TextDecoder('utf-8')
  private terminal: Terminal | undefined
  private release: (() => void) | undefined
  private stuckTimer: ReturnType<typeof setTimeout> | undefined
  private lagging = false
  private lastQueued = 0
  /** Bytes this client may still be sent now (a token bucket refilled at liveBytesPerSecond). */
  private budget: number
  private budgetAt = performance.now()
  /** Set while output is being skipped for the rate: the repaint that ends it. */
  private catchUpTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly socket: ClientSocket,
    private readonly session: Session,
    private readonly frames: ServerFrames,
    private readonly flow: PtyFlowOptions = DEFAULT_PTY_FLOW,
  ) {
    this.budget = flow.burstBytes
  }
  /** Attaches to the session's shell; throws the manager's 429/503 AppErrors. */
  attachShell(terminals: TerminalManager, size: { cols: number; rows: number } | undefined): void {
    const { terminal, replay } = terminals.attach(this.session, this, size)
    this.terminal = terminal
    this.release = () => terminals.detach(this.session.id, this)
    if (replay) this.socket.send(replay)
  }

  /** Watches a task's agent terminal, running or finished. */
  attachTask(terminal: Terminal, size: { cols: number; rows: number } | undefined): void {
    this.terminal = terminal
    if (!terminal.alive) {
      // exited resolves at once for a finished terminal: replay, then the exit frame.
      const replay = terminal.scrollback()
      if (replay) this.socket.send(replay)
      void terminal.exited.then((exit) => this.exit(exit))
      return
    }
    if (size) terminal.resize(size.cols, size.rows)
    const { replay, unsubscribe } = terminal.subscribe((chunk) => this.output(chunk))
    const stopExit = terminal.onExit((exit) => this.exit(exit))
    this.release = () => {
      unsubscribe()
      stopExit()
    }
    if (replay) this.socket.send(replay)
  }

  output(chunk: string): void {
    // The scrollback already holds this chunk, so a resync or a catch-up sends it too.
    if (this.lagging) {
      this.resync()
      return
    }
    if (this.catchUpTimer) return
    const queued = this.socket.queuedBytes
    if (queued > this.flow.lagBytes) {
      this.lagging = true
      this.lastQueued = queued
      this.armStuckTimer()
      return
    }
    if (!this.spend(chunk.length)) {
      this.scheduleCatchUp()
      return
    }
    this.socket.send(chunk)
  }

  /** Takes `bytes` from the budget when it has them; a repaint (force) may take it below zero. */
  private spend(bytes: number, force = false): boolean {
    const now = performance.now()
    this.budget = Math.min(this.flow.burstBytes, this.budget + ((now - this.budgetAt) * this.flow.liveBytesPerSecond) / 1000)
    this.budgetAt = now
    if (this.budget < bytes && !force) return false
    this.budget -= bytes
    return true
  }

  /** A repaint once the budget covers the scrollback it sends. */
  private scheduleCatchUp(): void {
    const needed = REPAINT_CHARS - this.budget
    const waitMs = Math.max(MIN_CATCH_UP_MS, (needed * 1000) / this.flow.liveBytesPerSecond)
    this.catchUpTimer = setTimeout(() => this.catchUp(), waitMs)
    this.catchUpTimer.unref?.()
  }

  private catchUp(): void {
    clearTimeout(this.catchUpTimer)
    this.catchUpTimer = undefined
    if (!this.terminal || this.lagging) return
    const repaint = RESET + this.terminal.scrollbackTail(REPAINT_CHARS)
    this.spend(repaint.length, true)
    this.socket.send(repaint)
  }

  /** Bun's drain: the client took some of its queue. */
  drain(): void {
    if (!this.lagging || this.resync()) return
    const queued = this.socket.queuedBytes
    // Slow is fine, stuck is not: progress restarts the clock.
    if (queued < this.lastQueued) this.armStuckTimer()
    this.lastQueued = queued
  }

  private armStuckTimer(): void {
    clearTimeout(this.stuckTimer)
    this.stuckTimer = setTimeout(() => {
      this.socket.close(CLOSE.tooSlow, `too slow: took no output for ${this.flow.stuckMs / 1000} s; reconnect to catch up`)
    }, this.flow.stuckMs)
    this.stuckTimer.unref?.()
  }

  /** Back to live output with a repaint, once the client's queue is short again. */
  private resync(): boolean {
    if (this.socket.queuedBytes > this.flow.resyncBytes || !this.terminal) return false
    this.lagging = false
    clearTimeout(this.stuckTimer)
    clearTimeout(this.catchUpTimer)
    this.catchUpTimer = undefined
    const repaint = RESET + this.terminal.scrollback()
    this.spend(repaint.length, true)
    this.socket.send(repaint)
    return true
  }

  exit(exit: TerminalExit): void {
    this.release = undefined
    clearTimeout(this.stuckTimer)
    // Output skipped for the rate ends in the screen it left, before the exit frame.
    if (this.catchUpTimer) this.catchUp()
    this.socket.send(exitFrame(this.frames, exit))
    this.socket.close(CLOSE.normal, 'the terminal process exited')
  }

  message(message: string | Buffer | ArrayBuffer | Uint8Array): void {
    const terminal = this.terminal
    if (!terminal?.alive) return
    if (typeof message !== 'string') {
      // Binary frames are raw keystrokes; a character may be split across two frames.
      terminal.write(this.decoder.decode(message instanceof ArrayBuffer ? new Uint8Array(message) : message, { stream: true }))
      return
    }
    const frame = readPtyFrame(message)
    if (frame.kind === 'input') terminal.write(frame.data)
    else if (frame.kind === 'resize') terminal.resize(frame.cols, frame.rows)
    else this.socket.send(this.frames.error('resize', frame.message, 'bad_terminal_size'))
  }

  /** The socket closed: stop receiving output. The shell keeps running for the next attach. */
  closed(): void {
    clearTimeout(this.stuckTimer)
    clearTimeout(this.catchUpTimer)
    this.catchUpTimer = undefined
    this.socket.closed()
    this.release?.()
    this.release = undefined
  }
}
