import type * as acp from '@agentclientprotocol/sdk'
import type { PreparedAgent } from '../agents'
import type { AcpAgentConnection } from '../agents/acp/connection'
import { AcpAgentError } from '../agents/acp/errors'
import { DEFAULT_OUTPUT_STREAM_LIMITS, OutputEvent, OutputStreamer } from '../events'
import type { FilePatch } from '../git'
import { describeError, type Logger } from '../logger'
import { buildChildEnv } from '../policy/env'
import { sessionMarkerEnv } from '../procs'
import type { Approvals } from './approvals'
import { MessageEvent, ToolEvent, type Publish, type ToolLocation, type ToolStatus } from './conversation-events'
import { TaskErrorEvent, TaskPatchEvent, TaskStatusEvent } from './events'
import type { ConversationStore, MessageRole } from './conversation-store'
import { pickEnv } from './run'
import type { TaskPhase, TaskRecord, TaskStatus, TaskStore } from './types'
import { WorkspaceError, type Workspaces } from './workspaces'

let acpConnection: Promise<typeof import('../agents/acp/connection')> | null = null
const loadAcpConnection = () => (acpConnection ??= import('../agents/acp/connection'))

export type ConversationDeps = {
  store: TaskStore
  workspaces: Workspaces
  conversations: ConversationStore
  approvals: Approvals
  /** Publishes on the task's session; a no-op once the session has ended. */
  publish: Publish
  sessionId: string
  /** Bound on one turn (TASK_TIMEOUT_SECONDS). */
  turnTimeoutMs: number
  idleMs: number
  requestTimeoutMs: number
  /** The server's environment (Config.environment): agents' environments are built from it. */
  environment: Readonly<Record<string, string | undefined>>
  logger: Logger
}

/** cancel: how long the agent gets to end its turn after session/cancel before its group is killed. */
const CANCEL_GRACE_MS = 2000
const KILL_GRACE_MS = 1000
/** Follow-ups waiting for the running turn, per task. */
export const MAX_QUEUED_FOLLOW_UPS = 32
/** An agent message longer than this goes out in parts (each its own messageId). */
const MAX_MESSAGE_CHARS = 64 * 1024

/**
 * An agent with no credentials answers with ACP's auth_required (-32000, "Authentication
 * required"): the error then names the variables its adapter passes through, so a person knows
 * what to set. The agent never falls back to anything else on its own.
 */
function credentialsHint(agent: PreparedAgent['agent'], reason: string): string | null {
  if (!/auth(entication|orization)? required|not logged in|api key/i.test(reason)) return null
  const keys = agent.envVars.filter((name) => /KEY|TOKEN/.test(name))
  if (keys.length === 0) return `Log ${agent.name} in on this machine, then send a follow-up.`
  return `Set ${keys.join(' or ')} in the server's environment (or log ${agent.name} in on this machine), then send a follow-up.`
}

/** The adapter refused to start the agent (no credentials): its sentence is the task's error as is. */
class AgentNotReadyError extends Error {}

type ToolState = { title: string; kind: string; status: ToolStatus; locations?: ToolLocation[] }

/**
 * One task in acp mode: a conversation with one agent process and one ACP session in the task's
 * workspace. The instruction is the first prompt, each follow-up the next (queued while a turn
 * runs). The task is `running` during a turn and `completed` (patches saved) when it ends. Between
 * turns the agent waits up to AGENT_IDLE_SECONDS, then is stopped; a later follow-up starts it
 * again, with session/load when it offers that. A dead, hung or misbehaving agent fails the turn
 * with an error naming it; the workspace stays, so a follow-up can go on.
 */
export class ConversationRun {
  readonly done: Promise<void>
  /** The cancel or close under way: later calls wait for it. */
  private stopping: Promise<void> | null = null
  private agent: AcpAgentConnection | null = null
  private loadSupported = false
  private readonly queue: string[] = []
  private driving: Promise<void> | null = null
  private turnActive = false
  private closed = false
  private cancelRequested = false
  private loadingHistory = false
  private startedOnce = false
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  private message: { id: string; text: string } | null = null
  private readonly tools = new Map<string, ToolState>()
  private output: OutputStreamer | null = null
  private finishDone!: () => void

  constructor(
    readonly taskId: string,
    private readonly sessionRepo: string,
    private readonly prepared: PreparedAgent,
    private readonly deps: ConversationDeps,
  ) {
    this.done = new Promise((resolve) => (this.finishDone = resolve))
  }

  /** A turn is running or waiting to: the task counts against the session's running tasks. */
  get busy(): boolean {
    return !this.closed && (this.turnActive || this.queue.length > 0 || this.driving !== null)
  }

  get queueLength(): number {
    return this.queue.length
  }

  get acceptsInput(): boolean {
    return !this.closed && !this.cancelRequested
  }

  /** Starts the conversation with the instruction as its first prompt. */
  start(instruction: string): void {
    this.echo('user', instruction)
    this.queue.push(instruction)
    this.kick()
  }

  /** A follow-up: echoed to every client, then sent when the agent is free (in order). */
  followUp(text: string): void {
    this.echo('user', text)
    this.queue.push(text)
    this.kick()
  }

  /**
   * Stops the turn (session/cancel, then the process group after a grace period); the task ends
   * `cancelled`. A second call while the first is under way (two DELETEs at once) waits for the
   * first instead of stopping the agent again and recording `cancelled` for a task deleted since.
   */
  cancel(): Promise<void> {
    if (this.closed) return Promise.resolve()
    return (this.stopping ??= this.cancelNow())
  }

  private async cancelNow(): Promise<void> {
    this.cancelRequested = true
    this.queue.length = 0
    this.deps.approvals.cancelTask(this.taskId)
    const agent = this.agent
    const sessionId = this.deps.store.get(this.taskId)?.agentSessionId
    if (agent && sessionId && this.turnActive) {
      agent.cancel(sessionId)
      await Promise.race([this.driving, Bun.sleep(CANCEL_GRACE_MS)])
    }
    await agent?.kill()
    await this.driving
    const dir = this.deps.store.get(this.taskId)?.workspaceDir ?? null
    if (dir !== null) await this.savePatchesAfterStop(dir)
    this.output?.finish()
    this.setStatus('cancelled', null, { endedAt: new Date().toISOString(), error: 'Cancelled by request.' })
    this.end()
  }

  /** Ends the conversation for good without a status change (applied, deleted, session ended). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    return (this.stopping ??= this.closeNow())
  }

  private async closeNow(): Promise<void> {
    this.cancelRequested = true
    this.queue.length = 0
    this.deps.approvals.cancelTask(this.taskId)
    await this.agent?.kill()
    await this.driving
    this.end()
  }

  private end(): void {
    this.closed = true
    this.clearIdle()
    this.output?.finish()
    this.agent = null
    this.finishDone()
  }

  private kick(): void {
    if (this.driving !== null || this.closed) return
    this.driving = this.drive()
      .catch((error) => this.fail(`Internal error in the conversation: ${(error as Error).message}`))
      .catch((error) => this.deps.logger.error('a task could not record its failure', { taskId: this.taskId, error: describeError(error) }))
      .finally(() => {
        this.driving = null
        // A follow-up that came while the last turn was being wrapped up.
        if (this.queue.length > 0 && !this.closed && !this.cancelRequested) this.kick()
      })
  }

  private async drive(): Promise<void> {
    this.clearIdle()
    const dir = await this.ensureWorkspace()
    if (dir === null) {
      this.queue.length = 0
      return
    }
    while (this.queue.length > 0 && !this.closed && !this.cancelRequested) {
      const text = this.queue.shift()!
      if (!(await this.turn(dir, text))) {
        this.queue.length = 0
        return
      }
    }
    if (this.agent && !this.closed && !this.cancelRequested) this.startIdle()
  }

  private async ensureWorkspace(): Promise<string | null> {
    const task = this.deps.store.get(this.taskId)!
    if (task.workspaceDir !== null && task.baseline !== null) return task.workspaceDir
    const dir = this.deps.workspaces.dirFor(this.deps.sessionId, this.taskId)
    this.setStatus('pending', 'workspace')
    try {
      const { baseline } = await this.deps.workspaces.create(this.sessionRepo, dir)
      this.update({ workspaceDir: dir, baseline })
    } catch (error) {
      const message = error instanceof WorkspaceError ? error.message : `Could not create the task workspace: ${(error as Error).message}`
      await this.deps.workspaces.remove(dir).catch((removal) => this.deps.logger.error('removing a half-made workspace failed', { dir, error: describeError(removal) }))
      this.fail(message)
      return null
    }
    return dir
  }

  /** One prompt; false when the conversation cannot go on (failed or cancelled). */
  private async turn(dir: string, text: string): Promise<boolean> {
    this.turnActive = true
    this.tools.clear()
    // `running` once the agent process exists (as a print-mode task's terminal does), so a client
    // that sees it finds the process.
    const running = () => {
      this.setStatus('running', 'agent', this.startedOnce ? { endedAt: null, error: null, exitCode: null } : { startedAt: new Date().toISOString() })
      this.startedOnce = true
    }
    try {
      const agent = await this.ensureAgent(dir, running)
      if (this.cancelRequested) return false
      const sessionId = this.deps.store.get(this.taskId)!.agentSessionId!
      const stop = await agent.prompt(sessionId, text, this.deps.turnTimeoutMs)
      this.flushMessage()
      if (this.cancelRequested) return false
      if (stop === 'refusal' || stop === 'max_tokens' || stop === 'max_turn_requests') this.echo('agent', `(the turn ended early: ${stop.replaceAll('_', ' ')})`)
      // Nobody cancelled: the agent ended the turn itself (codex-acp does on a rejected command).
      if (stop === 'cancelled') this.echo('agent', `(${this.prepared.agent.name} stopped the turn; a follow-up goes on from here)`)
      this.setStatus('running', 'diff')
      await this.savePatches(dir)
      // The agent's log of this turn (coalesced for 50 ms) goes out before the status that ends it.
      this.output?.finish()
      this.setStatus('completed', null, { endedAt: new Date().toISOString() })
      return true
    } catch (error) {
      this.flushMessage()
      if (this.cancelRequested) return false
      const reason = error instanceof AcpAgentError || error instanceof AgentNotReadyError ? error.message : `Agent ${this.prepared.agent.name} failed: ${(error as Error).message}`
      const hint = error instanceof AgentNotReadyError ? null : (credentialsHint(this.prepared.agent, reason) ?? this.prepared.agent.failureHint?.(this.deps.environment) ?? null)
      await this.agent?.kill()
      this.agent = null
      this.deps.approvals.cancelTask(this.taskId)
      await this.savePatchesAfterStop(dir)
      this.fail(hint ? `${reason} ${hint}` : reason)
      return false
    } finally {
      this.turnActive = false
    }
  }

  private async ensureAgent(dir: string, spawned: () => void): Promise<AcpAgentConnection> {
    // The ACP library (zod schemas: about 40 ms to evaluate) loads with the first ACP agent, not
    // at start-up. Awaited before the check below, so two callers never both start an agent.
    const { AcpAgentConnection } = await loadAcpConnection()
    // A cancel or close that came while it loaded has already stopped what there was to stop.
    if (this.cancelRequested || this.closed) throw new AcpAgentError(`Agent ${this.prepared.agent.name} was stopped before it started.`)
    if (this.agent?.alive) {
      spawned()
      return this.agent
    }
    const { agent: adapter, file } = this.prepared
    // The same per-agent preparation as print mode, before anything starts: the credential check
    // (none → the task fails at once naming what to set) and the endpoints and permission
    // settings the ACP entry point needs.
    const baseEnv = buildChildEnv(this.deps.environment, { ...pickEnv(this.deps.environment, adapter.envVars), ...sessionMarkerEnv(this.deps.sessionId) })
    const run = adapter.prepareRun ? adapter.prepareRun(baseEnv, this.prepared.args, 'acp') : { args: [...this.prepared.args], env: baseEnv }
    if ('error' in run) throw new AgentNotReadyError(run.error)
    const restarting = this.deps.store.get(this.taskId)!.agentSessionId ?? null
    this.output ??= new OutputStreamer((data) => this.deps.publish(OutputEvent, { taskId: this.taskId, data }), DEFAULT_OUTPUT_STREAM_LIMITS)
    const connection = AcpAgentConnection.start(
      {
        name: adapter.name,
        file,
        args: run.args,
        cwd: dir,
        env: run.env,
        requestTimeoutMs: this.deps.requestTimeoutMs,
        killGraceMs: KILL_GRACE_MS,
      },
      {
        onUpdate: (update) => this.onUpdate(update),
        onPermission: (request) => this.onPermission(dir, request),
        onStderr: (text) => this.output?.write(text),
      },
    )
    this.agent = connection
    spawned()
    try {
      const { loadSession, authMethods } = await connection.initialize()
      this.loadSupported = loadSession
      const authMethod = adapter.acpAuthMethod?.(run.env, authMethods) ?? null
      if (authMethod !== null) await connection.authenticate(authMethod)
      let loaded = false
      let loadFailure = ''
      if (restarting !== null && this.loadSupported) {
        // The agent replays the conversation as session/update; clients already have it.
        this.loadingHistory = true
        try {
          await connection.loadSession(restarting, dir)
          loaded = true
        } catch (error) {
          // An agent that lost the session (its own state is gone) can still work on in the workspace.
          if (!(error instanceof AcpAgentError) || !connection.alive) throw error
          loadFailure = ` (it could not load the earlier session: ${error.message})`
        } finally {
          this.loadingHistory = false
        }
      }
      if (loaded) this.echo('agent', `(${adapter.name} was started again and continues the same conversation.)`)
      else {
        const sessionId = await connection.newSession(dir)
        this.update({ agentSessionId: sessionId })
        if (restarting !== null) {
          this.echo('agent', `(${adapter.name} was started again in a fresh ACP session in the same workspace; it does not remember the earlier turns${loadFailure}.)`)
        }
      }
    } catch (error) {
      await connection.kill()
      throw error
    }
    return connection
  }

  private onUpdate(update: acp.SessionUpdate): void {
    if (this.loadingHistory || this.closed) return
    if (update.sessionUpdate === 'agent_message_chunk') {
      if (update.content.type !== 'text') return
      this.message ??= { id: `msg-${crypto.randomUUID()}`, text: '' }
      this.message.text += update.content.text
      if (this.message.text.length >= MAX_MESSAGE_CHARS) this.flushMessage()
      return
    }
    if (update.sessionUpdate === 'tool_call' || update.sessionUpdate === 'tool_call_update') {
      this.flushMessage()
      this.onTool(update)
    }
  }

  private onTool(update: acp.ToolCallUpdate & { title?: string | null }): void {
    const known = this.tools.get(update.toolCallId)
    const state: ToolState = {
      title: update.title ?? known?.title ?? 'tool call',
      kind: update.kind ?? known?.kind ?? 'other',
      status: update.status ?? known?.status ?? 'pending',
    }
    const locations = update.locations ?? undefined
    if (locations) state.locations = locations.map((l) => ({ path: l.path, ...(typeof l.line === 'number' ? { line: l.line } : {}) }))
    else if (known?.locations) state.locations = known.locations
    // Bounded: a turn with thousands of tool calls keeps only the recent ones' state.
    if (!known && this.tools.size >= 1000) this.tools.delete(this.tools.keys().next().value!)
    this.tools.set(update.toolCallId, state)
    this.deps.publish(ToolEvent, { taskId: this.taskId, toolCallId: update.toolCallId, ...state })
  }

  private onPermission(dir: string, request: acp.RequestPermissionRequest): Promise<acp.RequestPermissionOutcome> {
    this.flushMessage()
    if (this.cancelRequested || this.closed) return Promise.resolve({ outcome: 'cancelled' })
    const context = { sessionId: this.deps.sessionId, taskId: this.taskId, agent: this.prepared.agent.name, workspace: dir }
    return this.deps.approvals.request(context, request, (pending) => {
      if (!this.turnActive || this.cancelRequested) return
      this.setStatus('running', pending > 0 ? 'awaiting_approval' : 'agent')
    })
  }

  private flushMessage(): void {
    const message = this.message
    this.message = null
    if (message && message.text !== '') this.publishMessage(message.id, 'agent', message.text)
  }

  private echo(role: MessageRole, content: string): void {
    this.publishMessage(`msg-${crypto.randomUUID()}`, role, content)
  }

  private publishMessage(messageId: string, role: MessageRole, content: string): void {
    this.deps.conversations.save({ taskId: this.taskId, messageId, role, content, ts: new Date().toISOString() })
    this.deps.publish(MessageEvent, { taskId: this.taskId, messageId, role, content })
  }

  private async savePatches(dir: string): Promise<void> {
    const [diffed, measured] = await this.deps.workspaces.diffAndMeasure(dir, this.deps.store.get(this.taskId)!.baseline!)
    if (diffed.status === 'rejected') throw diffed.reason
    if (measured.status === 'rejected') throw measured.reason
    const patches: FilePatch[] = diffed.value
    this.deps.store.savePatches(this.taskId, patches)
    this.update({ patchCount: patches.length })
    this.deps.publish(TaskPatchEvent, { taskId: this.taskId, count: patches.length })
  }

  /**
   * What the agent changed before a turn was cancelled or failed: the task ends either way, so a
   * diff that fails here is logged, not thrown (the workspace is kept for a later look).
   */
  private async savePatchesAfterStop(dir: string): Promise<void> {
    await this.savePatches(dir).catch((error) => this.deps.logger.error('the patches of a stopped turn could not be saved', { taskId: this.taskId, error: describeError(error) }))
  }

  private startIdle(): void {
    this.clearIdle()
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (this.busy || this.closed) return
      const agent = this.agent
      this.agent = null
      void agent?.kill()
    }, this.deps.idleMs)
    this.idleTimer.unref?.()
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }

  private fail(error: string): void {
    this.output?.finish()
    this.setStatus('failed', null, { endedAt: new Date().toISOString(), error })
    this.deps.publish(TaskErrorEvent, { taskId: this.taskId, message: error })
  }

  private update(changes: Partial<TaskRecord>): TaskRecord {
    return this.deps.store.update(this.taskId, { ...changes, updatedAt: new Date().toISOString() })
  }

  private setStatus(status: TaskStatus, phase: TaskPhase | null, extra: Partial<TaskRecord> = {}): void {
    this.update({ status, phase, ...extra })
    this.deps.publish(TaskStatusEvent, { taskId: this.taskId, status, ...(phase !== null ? { phase } : {}) })
  }
}
