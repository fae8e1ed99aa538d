import { constants } from 'node:os'
import type { Session } from '../session'
import { CLOSE, type ClientSocket } from './client-socket'
import type { TerminalManager, TerminalViewer } from './manager'
import { checkTerminalSize, type Terminal, type TerminalExit } from './terminal'

/** The `exit` frame: `code` stays a number for clients, 128 + signal as shells report it. */
export function exitFrame(exit: TerminalExit): string {
  const signalNumber = exit.signal ? (constants.signals as Record<string, number>)[exit.signal] : undefined
  const code = exit.code ?? (signalNumber === undefined ? -1 : 128 + signalNumber)
  return JSON.stringify({ type: 'exit', code, durationMs: exit.durationMs, ...(exit.signal ? { signal: exit.signal } : {}) })
}

type ClientFrame = { kind: 'resize'; cols: number; rows: number } | { kind: 'input'; data: string } | { kind: 'ignore' }

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
  if (frame.type === 'input' && typeof frame.data === 'string') return { kind: 'input', data: frame.data }
  if (frame.type === 'resize') {
    try {
      return { kind: 'resize', ...checkTerminalSize(frame.cols, frame.rows) }
    } catch {
      // A malformed resize is neither a size nor something the user typed.
      return { kind: 'ignore' }
    }
  }
  return { kind: 'input', data: text }
}

/**
 * One `/ws/pty` client: the replay then live output of the session's shell (or of a task's agent
 * terminal), input and resizes back into it, and the `exit` frame and close when the process ends.
 */
export class PtyConnection implements TerminalViewer {
  private readonly decoder = new TextDecoder('utf-8')
  private terminal: Terminal | undefined
  private release: (() => void) | undefined

  constructor(
    private readonly socket: ClientSocket,
    private readonly session: Session,
  ) {}

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
    this.socket.send(chunk)
  }

  exit(exit: TerminalExit): void {
    this.release = undefined
    this.socket.send(exitFrame(exit))
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
  }

  /** The socket closed: stop receiving output. The shell keeps running for the next attach. */
  closed(): void {
    this.socket.closed()
    this.release?.()
    this.release = undefined
  }
}
