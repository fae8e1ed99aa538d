import { statSync } from 'node:fs'
import type { EventHub } from '../events'
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, TooManyRequestsError } from '../errors'
import { CommandSyntaxError, matchesEntry, parseAllowlistEntry, splitCommandWords, type AllowlistEntry } from '../policy/commands'
import { buildChildEnv } from '../policy/env'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import { sessionMarkerEnv } from '../procs'
import { resolveInside } from '../policy/paths'
import type { Session } from '../session'
import { RunningCommand, type CommandView } from './command'
import { DEFAULT_OUTPUT_STREAM_LIMITS, ExitEvent, OutputEvent, type OutputStreamLimits } from '../events'
import { resolveCommandProgram } from './program'

export type CommandRunnerOptions = {
  /** CMD_ALLOWLIST entries; an entry ending in ` *` allows extra arguments. */
  allowlist: readonly string[]
  events: EventHub
  /** Cap, and default, of a command's timeout. */
  maxTimeoutMs: number
  /** Output kept per command; the tail wins. */
  outputLimitBytes: number
  concurrencyPerSession: number
  /** Finished commands remembered per session for GET (oldest forgotten first). Default 20. */
  maxKeptPerSession?: number
  /** Between SIGTERM and SIGKILL of a command's group. Default 1000 ms. */
  killGraceMs?: number
  outputStream?: Partial<OutputStreamLimits>
  /** The server environment (Config.environment) children's environments are built from. */
  parentEnv: Readonly<Record<string, string | undefined>>
  logger?: Logger
}

export type StartCommand = { cmd: string; cwd?: string; timeoutMs?: number }

const SHOWN_CMD_CHARS = 200

/** A client's cmd as words; a line that cannot be split is the client's mistake: 400. */
function commandWords(cmd: string): string[] {
  try {
    return splitCommandWords(cmd)
  } catch (error) {
    if (error instanceof CommandSyntaxError) throw new BadRequestError(`cmd ${error.message}`, 'invalid_command')
    throw error
  }
}

/**
 * Runs allowlisted commands for sessions: never through a shell, each in its own process group,
 * with a timeout, bounded output, a per-session concurrency bound and events on the session bus.
 * Sessions own their commands: `stopSession` (registered on session end) kills and forgets them.
 */
export class CommandRunner {
  private readonly entries: AllowlistEntry[]
  private readonly bySession = new Map<string, Map<string, RunningCommand>>()
  private readonly maxKept: number
  private readonly killGraceMs: number
  private readonly streamLimits: OutputStreamLimits
  private closed = false

  constructor(private readonly options: CommandRunnerOptions) {
    // A bad entry is a configuration mistake: refuse to start rather than silently never match it.
    this.entries = options.allowlist.map(parseAllowlistEntry)
    for (const entry of this.entries) {
      if (entry.words[0]!.includes('/')) {
        throw new Error(`CMD_ALLOWLIST entry "${entry.text}": name the program without a path; it is looked up on the server's PATH.`)
      }
    }
    this.maxKept = options.maxKeptPerSession ?? 20
    this.killGraceMs = options.killGraceMs ?? 1000
    this.streamLimits = { ...DEFAULT_OUTPUT_STREAM_LIMITS, ...options.outputStream }
  }

  start(session: Session, req: StartCommand): CommandView {
    if (this.closed) throw new ServiceUnavailableError('The server is shutting down; no new commands start.')
    if (typeof req.cmd !== 'string') throw new BadRequestError('cmd must be a string.', 'invalid_command')
    const words = commandWords(req.cmd)
    if (words.length === 0) throw new BadRequestError('cmd is empty.', 'invalid_command')
    if (!this.entries.some((entry) => matchesEntry(words, entry))) throw this.notAllowed(req.cmd)

    const cwd = this.resolveCwd(session, req.cwd)
    const timeoutMs = this.resolveTimeout(req.timeoutMs)
    const commands = this.commandsOf(session.id)
    const running = [...commands.values()].filter((command) => command.running).length
    if (running >= this.options.concurrencyPerSession) {
      throw new TooManyRequestsError(
        `${running} commands are already running in this session (the limit is ${this.options.concurrencyPerSession}); wait for one to finish or cancel it.`,
      )
    }

    const env = buildChildEnv(this.options.parentEnv, sessionMarkerEnv(session.id))
    const program = resolveCommandProgram(words[0]!, env.PATH ?? '')
    const id = crypto.randomUUID()
    const command = new RunningCommand({
      id,
      argv: [program, ...words.slice(1)],
      programName: words[0]!,
      cwd,
      env,
      timeoutMs,
      outputLimitBytes: this.options.outputLimitBytes,
      killGraceMs: this.killGraceMs,
      streamLimits: this.streamLimits,
      onOutput: (data) => this.options.events.publish(session.id, OutputEvent, { cmdId: id, data }),
      onExit: (code, durationMs) => this.options.events.publish(session.id, ExitEvent, { cmdId: id, code, durationMs }),
    })
    commands.set(id, command)
    void command.done.then(
      () => this.forgetOldFinished(commands),
      (error: unknown) => (this.options.logger ?? STANDALONE_LOGGER).error('a command failed while finishing', { cmdId: id, error: describeError(error) }),
    )
    return command.view()
  }

  get(sessionId: string, cmdId: string): CommandView {
    return this.find(sessionId, cmdId).view()
  }

  wait(sessionId: string, cmdId: string): Promise<CommandView> {
    return this.find(sessionId, cmdId).done
  }

  /** Kills the command's whole group and answers its final view; a finished command is returned as it is. */
  cancel(sessionId: string, cmdId: string): Promise<CommandView> {
    return this.find(sessionId, cmdId).stop('killed')
  }

  /** Kills every command of the session, waits until their groups are gone, and forgets them. */
  async stopSession(sessionId: string): Promise<void> {
    const commands = this.bySession.get(sessionId)
    if (!commands) return
    this.bySession.delete(sessionId)
    await Promise.all(
      [...commands.values()].map((command) => {
        // The session's bus is being closed; an event now would re-create it for nobody.
        command.silence()
        return command.stop('killed')
      }),
    )
  }

  async shutdown(): Promise<void> {
    this.closed = true
    await Promise.all([...this.bySession.keys()].map((id) => this.stopSession(id)))
  }

  /** How many commands are running across all sessions (for health and tests). */
  get runningCount(): number {
    let count = 0
    for (const commands of this.bySession.values()) for (const command of commands.values()) if (command.running) count++
    return count
  }

  private find(sessionId: string, cmdId: string): RunningCommand {
    // Another session's id answers exactly like an unknown one, so ids do not leak.
    const command = this.bySession.get(sessionId)?.get(cmdId)
    if (!command) throw new NotFoundError(`No command ${cmdId} in this session.`, 'command_not_found')
    return command
  }

  private commandsOf(sessionId: string): Map<string, RunningCommand> {
    let commands = this.bySession.get(sessionId)
    if (!commands) {
      commands = new Map()
      this.bySession.set(sessionId, commands)
    }
    return commands
  }

  /** Maps keep insertion order, so the first finished ones met are the oldest. */
  private forgetOldFinished(commands: Map<string, RunningCommand>): void {
    let finished = [...commands.values()].filter((command) => !command.running).length
    for (const [id, command] of commands) {
      if (finished <= this.maxKept) break
      if (command.running) continue
      commands.delete(id)
      finished--
    }
  }

  private resolveCwd(session: Session, cwd: string | undefined): string {
    if (cwd !== undefined && typeof cwd !== 'string') throw new BadRequestError('cwd must be a string.', 'invalid_cwd')
    // A repo deleted under a live session makes the containment check's realpath throw ENOENT (a 500).
    if (!isDirectory(session.repo)) {
      throw new ConflictError(`The session's repository ${session.repo} no longer exists; start a session on an existing repository.`, 'repo_missing')
    }
    const real = resolveInside(session.repo, cwd === undefined || cwd === '' ? '.' : cwd, 'cwd')
    if (!isDirectory(real)) throw new BadRequestError(`cwd ${cwd ?? '(the repository)'} is not an existing directory in the repository.`, 'invalid_cwd')
    return real
  }

  private resolveTimeout(timeoutMs: number | undefined): number {
    const max = this.options.maxTimeoutMs
    if (timeoutMs === undefined) return max
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new BadRequestError('timeoutMs must be a positive number of milliseconds.', 'invalid_timeout')
    }
    return Math.min(Math.ceil(timeoutMs), max)
  }

  private notAllowed(cmd: string): ForbiddenError {
    const shown = JSON.stringify(cmd.length > SHOWN_CMD_CHARS ? cmd.slice(0, SHOWN_CMD_CHARS) + '…' : cmd)
    const allowed = this.entries.map((entry) => entry.text).join(', ') || '(nothing: CMD_ALLOWLIST is empty)'
    return new ForbiddenError(
      `${shown} is not on the command allowlist. Allowed: ${allowed} (an entry ending in " *" takes extra arguments; commands run without a shell, so ";", "&&" and "|" are plain text).`,
      'command_not_allowed',
    )
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false // missing or unreadable: not a directory a command can run in
  }
}
