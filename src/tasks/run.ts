import type { AgentPrompt, PreparedAgent } from '../agents'
import { ExitEvent, OutputEvent, type EventDefinition, type EventFields } from '../events'
import { TaskErrorEvent, TaskPatchEvent, TaskStatusEvent } from './events'
import type { FilePatch } from '../git'
import { PayloadTooLargeError } from '../errors'
import { buildChildEnv } from '../policy/env'
import { describeError, type Logger } from '../logger'
import { sessionMarkerEnv } from '../procs'
import { Terminal } from '../pty/terminal'
import { DEFAULT_OUTPUT_STREAM_LIMITS, OutputStreamer } from '../events'
import { LineWatch, OutputTail } from './output-tail'
import type { TaskPhase, TaskRecord, TaskStatus, TaskStore } from './types'
import { WorkspaceError, type Workspaces } from './workspaces'

/** The error of a task whose agent was running when the server stopped (SIGTERM, crash, reboot). */
export const SERVER_STOPPED_ERROR = 'The server stopped while the agent ran; its workspace is kept, so its changes can still be reviewed.'

export type RunDeps = {
  store: TaskStore
  workspaces: Workspaces
  /** Publishes on the task's session; a no-op once the session has ended. */
  publish: <D extends EventDefinition>(definition: D, fields: EventFields<D>) => void
  taskTimeoutMs: number
  scrollbackBytes: number
  /** The server environment (Config.environment): the agent's child environment and provider keys come from it. */
  environment: Readonly<Record<string, string | undefined>>
  logger: Logger
}

/** How long a cancel or timeout gives the agent between SIGHUP/SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1000
/** Input typed before the agent's terminal exists is held, up to this much. */
const MAX_EARLY_INPUT_CHARS = 64 * 1024
const TERMINAL_SIZE = { cols: 120, rows: 40 }
/**
 * Most characters of agent output taken per second; past it the agent waits in write() (its
 * terminal's thread stops reading), so the output is slowed, never dropped, and every character
 * still reaches the events. Unbounded, an agent printing as fast as it could (`yes`) kept the
 * server's thread busy publishing output events (serialising them and writing them to state.db):
 * other requests took p50 13, p99 184 ms and RSS grew 196 MB (scripts/bench-flood.ts, quiet
 * machine). Paced at 4 Mi/s: p99 69 ms, +107 MB; at 1 Mi/s: p99 30 ms, +49 MB; at 256 Ki/s (a
 * command's stream rate): p99 8 ms, +29 MB. An agent's own terminal output is far below 1 Mi/s
 * (its tools' output is not printed), and a phone cannot show that much anyway.
 */
const AGENT_OUTPUT_CHARS_PER_SECOND = 1024 * 1024

type Outcome = { status: Extract<TaskStatus, 'completed' | 'failed' | 'cancelled'>; error: string | null }

export function pickEnv(environment: Readonly<Record<string, string | undefined>>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = environment[name]
    if (value !== undefined) picked[name] = value
  }
  return picked
}

/**
 * One task from its workspace to its patches: make the workspace, run the agent under a PTY in
 * it, stream its output, stop it on cancel or timeout, diff the workspace against the baseline.
 * Every step is recorded in the store and published as an event.
 */
export class TaskRun {
  terminal: Terminal | null = null
  prompt: AgentPrompt | null = null
  readonly done: Promise<void>
  private cancelRequested = false
  private serverStopping = false
  private timedOut = false
  /** The agent printed nothing within its Agent.firstOutputTimeout and was stopped. */
  private silentTooLong = false
  private ended = false
  private earlyInput: string[] = []
  private earlyInputChars = 0
  /** The agent's last line of output, for the error of a failed run. */
  private lastLine: string | null = null
  /** A line of the agent's output saying it did not do its work (Agent.detectFailure), once seen. */
  private failureSeen: string | null = null
  private startDone!: () => void

  constructor(
    readonly taskId: string,
    private readonly sessionRepo: string,
    private readonly prepared: PreparedAgent,
    private readonly deps: RunDeps,
  ) {
    this.done = new Promise((resolve) => (this.startDone = resolve))
  }

  start(): void {
    this.execute()
      .catch((error) => this.finish({ status: 'failed', error: `Internal error while running the task: ${(error as Error).message}` }))
      .catch((error) => this.deps.logger.error('a task could not record its failure', { taskId: this.taskId, error: describeError(error) }))
      .finally(() => this.startDone())
  }

  /** Stops the agent's whole process tree; the run then ends as `cancelled`. */
  async cancel(): Promise<void> {
    this.cancelRequested = true
    await this.terminal?.kill(KILL_GRACE_MS)
  }

  /** Still running or starting: counts against the session's running tasks. */
  get busy(): boolean {
    return !this.ended
  }

  /** The server is stopping: the agent is killed and the task ends `failed` saying so (not `cancelled`). */
  async stopForShutdown(): Promise<void> {
    this.serverStopping = true
    await this.cancel()
  }

  /** False once the agent has exited or is being stopped: input would be lost. */
  get acceptsInput(): boolean {
    return !this.cancelRequested && !this.timedOut && !this.silentTooLong && !this.ended && (this.terminal === null || this.terminal.alive)
  }

  /** Types into the agent's terminal; before the agent started, the text waits (bounded). */
  write(text: string): void {
    if (this.terminal) {
      this.terminal.write(text)
      return
    }
    if (this.earlyInputChars + text.length > MAX_EARLY_INPUT_CHARS) {
      throw new PayloadTooLargeError(`The agent has not started yet and already has ${this.earlyInputChars} characters of input waiting; send more once it runs.`)
    }
    this.earlyInput.push(text)
    this.earlyInputChars += text.length
  }

  private update(changes: Partial<TaskRecord>): TaskRecord {
    return this.deps.store.update(this.taskId, { ...changes, updatedAt: new Date().toISOString() })
  }

  private setStatus(status: TaskStatus, phase: TaskPhase | null, extra: Partial<TaskRecord> = {}): void {
    this.update({ status, phase, ...extra })
    this.deps.publish(TaskStatusEvent, { taskId: this.taskId, status, ...(phase !== null ? { phase } : {}) })
  }

  private async execute(): Promise<void> {
    const { workspaces } = this.deps
    const dir = workspaces.dirFor(this.deps.store.get(this.taskId)!.sessionId, this.taskId)
    this.setStatus('pending', 'workspace')
    let baseline: string
    try {
      ;({ baseline } = await workspaces.create(this.sessionRepo, dir))
    } catch (error) {
      const message = error instanceof WorkspaceError ? error.message : `Could not create the task workspace: ${(error as Error).message}`
      await workspaces.remove(dir).catch((removal) => this.deps.logger.error('removing a half-made workspace failed', { dir, error: describeError(removal) }))
      return this.finish({ status: 'failed', error: message })
    }
    this.update({ workspaceDir: dir, baseline })
    if (this.serverStopping) return this.finish({ status: 'failed', error: SERVER_STOPPED_ERROR })
    if (this.cancelRequested) return this.finish({ status: 'cancelled', error: 'Cancelled before the agent started.' })

    const exit = await this.runAgent(dir)
    if (exit === null) return
    const outcome = this.outcomeOf(exit.code, exit.signal)

    // A cancelled task does not go back to `running` for the diff; its patches are still kept.
    if (outcome.status !== 'cancelled') this.setStatus('running', 'diff')
    let patches: FilePatch[] = []
    const [diffed, measured] = await workspaces.diffAndMeasure(dir, baseline)
    if (diffed.status === 'fulfilled') patches = diffed.value
    else {
      const unreadable = `its changes could not be read: ${(diffed.reason as Error).message}`
      if (outcome.status === 'completed') outcome.status = 'failed'
      outcome.error = outcome.error === null ? `The agent finished but ${unreadable}` : `${outcome.error} (and ${unreadable})`
    }
    if (measured.status === 'rejected') throw measured.reason
    this.deps.store.savePatches(this.taskId, patches)
    this.update({ patchCount: patches.length })
    this.deps.publish(TaskPatchEvent, { taskId: this.taskId, count: patches.length })
    this.deps.publish(ExitEvent, { taskId: this.taskId, code: exit.code, durationMs: exit.durationMs })
    this.finish(outcome, exit.code)
  }

  /** Runs the agent to its end; null when it could not start (the task is already failed). */
  private async runAgent(dir: string): Promise<{ code: number | null; signal?: string; durationMs: number } | null> {
    const { agent, file } = this.prepared
    const sessionId = this.deps.store.get(this.taskId)!.sessionId
    const baseEnv = buildChildEnv(this.deps.environment, { ...pickEnv(this.deps.environment, agent.envVars), TERM: 'xterm-256color', ...sessionMarkerEnv(sessionId) })
    const run = agent.prepareRun ? agent.prepareRun(baseEnv, this.prepared.args, 'print') : { args: this.prepared.args, env: baseEnv }
    if ('error' in run) {
      this.finish({ status: 'failed', error: run.error })
      return null
    }
    const { args, env } = run
    let terminal: Terminal
    try {
      terminal = Terminal.spawn({ file, args, cwd: dir, env, ...TERMINAL_SIZE, scrollbackBytes: this.deps.scrollbackBytes, outputCharsPerSecond: AGENT_OUTPUT_CHARS_PER_SECOND, logger: this.deps.logger })
    } catch (error) {
      this.finish({ status: 'failed', error: `Could not start agent ${agent.name} (${file}): ${(error as Error).message}` })
      return null
    }
    this.terminal = terminal
    this.setStatus('running', 'agent', { startedAt: new Date().toISOString() })
    for (const text of this.earlyInput.splice(0)) terminal.write(text)

    const tail = new OutputTail()
    const detectFailure = agent.detectFailure
    const failures = detectFailure ? new LineWatch((line) => detectFailure(line)) : null
    // Coalesced like a command's output; its rate is bounded by its terminal (above), which slows
    // the agent rather than leaving output out of the stream as a command's streamer does.
    const output = new OutputStreamer(
      (data) => {
        this.deps.publish(OutputEvent, { taskId: this.taskId, data })
        this.checkPrompt(tail)
      },
      { ...DEFAULT_OUTPUT_STREAM_LIMITS, bytesPerSecond: Number.POSITIVE_INFINITY },
    )
    const silent = agent.firstOutputTimeout
    const silenceTimer = silent
      ? setTimeout(() => {
          this.silentTooLong = true
          void terminal.kill(KILL_GRACE_MS)
        }, silent.ms)
      : null
    terminal.onData((chunk) => {
      if (silenceTimer !== null) clearTimeout(silenceTimer)
      tail.push(chunk)
      failures?.push(chunk)
      output.write(chunk)
    })
    // A cancel that came while the terminal was starting has nothing to kill yet: kill now.
    if (this.cancelRequested) void terminal.kill(KILL_GRACE_MS)
    const timer = setTimeout(() => {
      this.timedOut = true
      void terminal.kill(KILL_GRACE_MS)
    }, this.deps.taskTimeoutMs)
    const exit = await terminal.exited
    clearTimeout(timer)
    if (silenceTimer !== null) clearTimeout(silenceTimer)
    output.finish()
    failures?.end()
    this.failureSeen = failures?.found ?? null
    this.lastLine = tail.lastLine()
    return exit
  }

  private checkPrompt(tail: OutputTail): void {
    const detected = this.prepared.agent.detectPrompt?.(tail.plain()) ?? null
    if ((detected === null) === (this.prompt === null)) return
    this.prompt = detected
    this.setStatus('running', detected ? 'awaiting_input' : 'agent')
  }

  private outcomeOf(code: number | null, signal?: string): Outcome {
    if (this.serverStopping) return { status: 'failed', error: SERVER_STOPPED_ERROR }
    if (this.cancelRequested) return { status: 'cancelled', error: 'Cancelled by request.' }
    const silent = this.prepared.agent.firstOutputTimeout
    if (this.silentTooLong && silent) {
      return { status: 'failed', error: `Agent ${this.prepared.agent.name} printed nothing in ${Math.round(silent.ms / 1000)} s and was stopped: ${silent.hint}` }
    }
    if (this.timedOut) {
      return { status: 'failed', error: `The agent ran longer than the task timeout (${Math.round(this.deps.taskTimeoutMs / 1000)} s) and was stopped.` }
    }
    // The agent's own words that it did not do the work outrank its exit code.
    if (this.failureSeen !== null) return { status: 'failed', error: this.failureSeen }
    if (code === 0) return { status: 'completed', error: null }
    const how = code === null ? `was killed${signal ? ` by ${signal}` : ''}` : `exited with code ${code}`
    return { status: 'failed', error: `Agent ${this.prepared.agent.name} ${how}${this.lastLine ? `: ${this.lastLine}` : '.'}` }
  }

  private finish(outcome: Outcome, exitCode: number | null = null): void {
    this.ended = true
    this.prompt = null
    this.setStatus(outcome.status, null, { endedAt: new Date().toISOString(), exitCode, error: outcome.error })
    if (outcome.status === 'failed' && outcome.error) this.deps.publish(TaskErrorEvent, { taskId: this.taskId, message: outcome.error })
  }
}
