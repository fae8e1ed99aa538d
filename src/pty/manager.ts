import { basename } from 'node:path'
import { AppError, ConflictError, ServiceUnavailableError, TooManyRequestsError } from '../errors'
import { buildChildEnv } from '../policy/env'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import { sessionMarkerEnv } from '../procs'
import type { Session } from '../session'
import { checkTerminalSize, Terminal, type TerminalExit } from './terminal'

export type TerminalManagerOptions = {
  scrollbackBytes: number
  /** A shell nobody has watched for this long is stopped. */
  idleSeconds: number
  /** Clients attached at once to one session's shell (429 past it). */
  maxPerSession: number
  /** Shells running in the whole server (503 past it). */
  maxTotal: number
  /** Absolute path of the shell; default $SHELL, else bash, else sh. */
  shell?: string
  /** The server environment (Config.environment): the shell's environment and default $SHELL. */
  environment: Readonly<Record<string, string | undefined>>
  logger?: Logger
  /** SIGHUP/SIGTERM grace before SIGKILL when a shell is stopped. */
  killGraceMs?: number
}

/** One attached client: receives the shell's output and, once, its exit. */
export interface TerminalViewer {
  output(chunk: string): void
  exit(exit: TerminalExit): void
}

type SessionShell = {
  terminal: Terminal
  viewers: Map<TerminalViewer, () => void>
  idleTimer: ReturnType<typeof setTimeout> | undefined
}

export function defaultShell(env: Readonly<Record<string, string | undefined>>): string {
  if (env.SHELL && env.SHELL.startsWith('/')) return env.SHELL
  return Bun.which('bash') ?? Bun.which('sh') ?? '/bin/sh'
}

/**
 * One interactive shell per session, in the session's repo. Started by the first attach, shared
 * by every attached client, kept across disconnects (a reconnect gets the scrollback and the same
 * shell), stopped when the session ends or nobody has watched it for idleSeconds.
 */
export class TerminalManager {
  private readonly shells = new Map<string, SessionShell>()
  /** A resize that came before the shell started (from the events socket) sizes the shell. */
  private readonly pendingSize = new Map<string, { cols: number; rows: number }>()
  private readonly shell: string
  private closed = false

  constructor(private readonly options: TerminalManagerOptions) {
    this.shell = options.shell ?? defaultShell(options.environment)
  }

  get runningCount(): number {
    return this.shells.size
  }

  terminalOf(sessionId: string): Terminal | undefined {
    return this.shells.get(sessionId)?.terminal
  }

  viewerCount(sessionId: string): number {
    return this.shells.get(sessionId)?.viewers.size ?? 0
  }

  /** Throws the 429/503 an attach would meet, so a WebSocket can be refused before its upgrade. */
  checkCapacity(sessionId: string): void {
    if (this.closed) throw new ServiceUnavailableError('The server is shutting down.', 'shutting_down')
    const existing = this.shells.get(sessionId)
    if (existing && existing.viewers.size >= this.options.maxPerSession) {
      throw new TooManyRequestsError(`This session's terminal already has ${this.options.maxPerSession} clients attached; close one first.`)
    }
    if (!existing && this.shells.size >= this.options.maxTotal) {
      throw new ServiceUnavailableError(`The server already runs ${this.options.maxTotal} terminals; end an unused session first.`, 'too_many_terminals')
    }
  }

  /**
   * Starts the session's shell if it is not running, so a WebSocket can be refused with the
   * reason (409 repo gone, 503) before its upgrade. Nobody watches it yet: the idle clock runs
   * until the first attach, so a client that never completes its upgrade leaks nothing.
   */
  ensureShell(session: Session, size?: { cols: number; rows: number }): Terminal {
    const checkedSize = size ? checkTerminalSize(size.cols, size.rows) : undefined
    this.checkCapacity(session.id)
    const existing = this.shells.get(session.id)
    if (existing) {
      if (checkedSize) existing.terminal.resize(checkedSize.cols, checkedSize.rows)
      return existing.terminal
    }
    const shell = this.start(session, checkedSize)
    this.startIdleTimer(session.id, shell)
    return shell.terminal
  }

  /**
   * Attaches a client to the session's shell, starting it if needed. The replay (scrollback) and
   * the live subscription are taken in one synchronous step: the client gets the replay first,
   * then every later chunk exactly once.
   */
  attach(session: Session, viewer: TerminalViewer, size?: { cols: number; rows: number }): { terminal: Terminal; replay: string } {
    this.ensureShell(session, size)
    const shell = this.shells.get(session.id)!
    clearTimeout(shell.idleTimer)
    shell.idleTimer = undefined
    const { replay, unsubscribe } = shell.terminal.subscribe((chunk) => viewer.output(chunk))
    shell.viewers.set(viewer, unsubscribe)
    return { terminal: shell.terminal, replay }
  }

  detach(sessionId: string, viewer: TerminalViewer): void {
    const shell = this.shells.get(sessionId)
    const unsubscribe = shell?.viewers.get(viewer)
    if (!shell || !unsubscribe) return
    unsubscribe()
    shell.viewers.delete(viewer)
    if (shell.viewers.size === 0) this.startIdleTimer(sessionId, shell)
  }

  /** Resizes the session's shell, or sets the size it will start with. */
  resize(sessionId: string, cols: number, rows: number): void {
    const size = checkTerminalSize(cols, rows)
    const shell = this.shells.get(sessionId)
    if (shell) shell.terminal.resize(size.cols, size.rows)
    else this.pendingSize.set(sessionId, size)
  }

  /** Stops the session's shell and everything it started; resolves when they are gone. */
  async stopSession(sessionId: string): Promise<void> {
    this.pendingSize.delete(sessionId)
    const shell = this.shells.get(sessionId)
    if (!shell) return
    this.shells.delete(sessionId)
    clearTimeout(shell.idleTimer)
    await shell.terminal.kill(this.options.killGraceMs)
  }

  async shutdown(): Promise<void> {
    this.closed = true
    await Promise.all([...this.shells.keys()].map((id) => this.stopSession(id)))
  }

  private start(session: Session, size: { cols: number; rows: number } | undefined): SessionShell {
    const startSize = size ?? this.pendingSize.get(session.id)
    this.pendingSize.delete(session.id)
    let terminal: Terminal
    try {
      terminal = Terminal.spawn({
        file: this.shell,
        args: [],
        cwd: session.repo,
        env: buildChildEnv(this.options.environment, { TERM: 'xterm-256color', COLORTERM: 'truecolor', SHELL: this.shell, ...sessionMarkerEnv(session.id) }),
        scrollbackBytes: this.options.scrollbackBytes,
        logger: this.options.logger,
        ...startSize,
      })
    } catch (error) {
      if (error instanceof AppError && error.kind === 'bad_cwd') {
        throw new ConflictError(`The session's repository ${session.repo} no longer exists; start a session on an existing repository.`, 'repo_missing')
      }
      throw new ServiceUnavailableError(`The terminal could not start ${basename(this.shell)}: ${(error as Error).message}`, 'terminal_unavailable')
    }
    const shell: SessionShell = { terminal, viewers: new Map(), idleTimer: undefined }
    this.shells.set(session.id, shell)
    terminal.onExit((exit) => {
      // The user typed `exit` (or the shell was stopped): tell everyone; the next attach starts a new one.
      if (this.shells.get(session.id) === shell) this.shells.delete(session.id)
      clearTimeout(shell.idleTimer)
      for (const viewer of shell.viewers.keys()) viewer.exit(exit)
      shell.viewers.clear()
    })
    return shell
  }

  private startIdleTimer(sessionId: string, shell: SessionShell): void {
    clearTimeout(shell.idleTimer)
    shell.idleTimer = setTimeout(() => {
      if (this.shells.get(sessionId) !== shell || shell.viewers.size > 0) return
      this.stopSession(sessionId).catch((error) => (this.options.logger ?? STANDALONE_LOGGER).error('stopping an idle terminal failed', { sessionId, error: describeError(error) }))
    }, this.options.idleSeconds * 1000)
    shell.idleTimer.unref?.()
  }
}
