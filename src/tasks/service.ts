import type { AgentRegistry } from '../agents'
import { ConfigError } from '../config'
import type { EventDefinition, EventFields, EventHub } from '../events'
import { TaskErrorEvent, TaskStatusEvent } from './events'
import { diffWorkspace, type FilePatch } from '../git'
import { BadRequestError, ConflictError, NotFoundError, ServiceUnavailableError, TooManyRequestsError } from '../errors'
import type { Terminal } from '../pty/terminal'
import { describeError, STANDALONE_LOGGER, type Logger } from '../logger'
import type { Session } from '../session'
import { applyTask, type ApplyRequest, type ApplyResult } from './apply'
import { MemoryTaskStore } from './memory-store'
import { SERVER_STOPPED_ERROR, TaskRun } from './run'
import { Approvals, type ApprovalAnswer } from './approvals'
import { ConversationRun, MAX_QUEUED_FOLLOW_UPS } from './conversation-run'
import type { ApprovalOutcome, Publish } from './conversation-events'
import {
  MemoryApprovalStore,
  MemoryConversationStore,
  type ApprovalRecord,
  type ApprovalStore,
  type ConversationMessage,
  type ConversationStore,
} from './conversation-store'
import type { ApprovalPolicyName } from '../policy/approvals'
import { FINISHED_STATUSES, toTaskView, type TaskRecord, type TaskStore, type TaskView } from './types'
import { checkBranchName, checkInstruction, TASK_LIMITS } from './validation'
import { WorkspaceKeeper } from './workspace-keeper'
import { Workspaces } from './workspaces'

export type TaskServiceOptions = {
  stateDir: string
  events: EventHub
  agents: AgentRegistry
  defaultAgent: string
  taskTimeoutMs: number
  /** Agent terminal output kept for attaching clients. */
  scrollbackBytes: number
  /** Disk all workspaces may use together; finished workspaces are evicted first, then new tasks refused (507). */
  workspaceMaxBytes: number
  /** The server environment (Config.environment) agents' environments are built from. */
  environment: Readonly<Record<string, string | undefined>>
  logger?: Logger
  /** Tasks running (or starting) at once per session; one more is refused with 429. Default 4. */
  maxTasksPerSession?: number
  /** Task records kept per session; the oldest finished ones go first. Default 200. */
  maxHistoryPerSession?: number
  /** A finished task's workspace is removed this many days after the task ended. Default 7. */
  workspaceRetentionDays?: number
  store?: TaskStore
  conversations?: ConversationStore
  approvalStore?: ApprovalStore
  /** APPROVAL_POLICY (default edits). */
  approvalPolicy?: ApprovalPolicyName
  /** APPROVAL_TIMEOUT_SECONDS in ms (default 900 s). */
  approvalTimeoutMs?: number
  /** CMD_ALLOWLIST, for APPROVAL_POLICY=allowlist. */
  cmdAllowlist?: readonly string[]
  /** AGENT_IDLE_SECONDS in ms (default 1800 s). */
  agentIdleMs?: number
  /** ACP_REQUEST_TIMEOUT_SECONDS in ms (default 120 s). */
  acpRequestTimeoutMs?: number
}

/** What a follow-up did: went to an existing conversation (maybe queued) or started a new task. */
export type FollowUpResult = { taskId: string; started: boolean; queued: boolean }

export type NewTask = { instruction: unknown; branch?: string | null; context?: unknown; agent?: string | null }

/** Live state of one session's tasks: running agents, and recent finished terminals for attaching. */
type SessionTasks = { stopped: boolean; runs: Map<string, TaskRun | ConversationRun>; finished: Map<string, Terminal> }

/** How long shutdown waits for stopped agents' runs to record their end. */
const SHUTDOWN_WAIT_MS = 3000

/** Finished agent terminals kept per session so a client can still read their screen. */
const FINISHED_TERMINALS_KEPT = 8

/**
 * Tasks: an instruction run by an agent in a workspace of its own, its patches, and applying
 * them to the session repo. Has the shape of ws/'s TaskTerminals, which the socket layer uses.
 */
export class TaskService {
  readonly store: TaskStore
  readonly conversations: ConversationStore
  readonly approvals: Approvals
  private readonly approvalStore: ApprovalStore
  private readonly workspaces: Workspaces
  private readonly keeper: WorkspaceKeeper
  private readonly sessions = new Map<string, SessionTasks>()
  private readonly applying = new Map<string, Promise<unknown>>()
  private orphansSwept = false
  private readonly logger: Logger
  private stopping = false

  /** Throws ConfigError when DEFAULT_AGENT names no known agent, so start-up stops with one line. */
  constructor(private readonly options: TaskServiceOptions) {
    if (!options.agents.get(options.defaultAgent)) {
      const known = options.agents.list().map((agent) => agent.name)
      throw new ConfigError(`DEFAULT_AGENT: "${options.defaultAgent}" is not an agent; use one of ${known.join(', ')}`)
    }
    this.store = options.store ?? new MemoryTaskStore()
    this.logger = options.logger ?? STANDALONE_LOGGER
    this.conversations = options.conversations ?? new MemoryConversationStore()
    this.approvalStore = options.approvalStore ?? new MemoryApprovalStore()
    this.approvals = new Approvals({
      store: this.approvalStore,
      policy: options.approvalPolicy ?? 'edits',
      timeoutMs: options.approvalTimeoutMs ?? 900_000,
      cmdAllowlist: options.cmdAllowlist ?? [],
      publish: (sessionId, definition, fields) => {
        const state = this.sessions.get(sessionId)
        if (state && !state.stopped) this.options.events.publish(sessionId, definition, fields)
      },
    })
    this.workspaces = new Workspaces(options.stateDir)
    this.keeper = new WorkspaceKeeper({
      store: this.store,
      workspaces: this.workspaces,
      maxBytes: options.workspaceMaxBytes,
      retentionDays: options.workspaceRetentionDays ?? 7,
      isApplying: (taskId) => this.applying.has(taskId),
    })
    this.failInterrupted()
  }

  /**
   * Tasks a previous process left pending or running had their agent killed with it: they end
   * `failed` saying so, and keep their workspace (the agent's work so far can still be read).
   */
  private failInterrupted(): void {
    const now = new Date().toISOString()
    for (const task of this.store.listUnfinished()) {
      this.store.update(task.id, { status: 'failed', phase: null, endedAt: now, updatedAt: now, error: SERVER_STOPPED_ERROR })
      this.options.events.publish(task.sessionId, TaskStatusEvent, { taskId: task.id, status: 'failed' })
      this.options.events.publish(task.sessionId, TaskErrorEvent, { taskId: task.id, message: SERVER_STOPPED_ERROR })
    }
  }

  /** Accepts a task and starts it in the background; 400 for a bad request or agent, 429/507 when full. */
  async create(session: Session, input: NewTask): Promise<TaskView> {
    const instruction = checkInstruction(input.instruction)
    const branch = input.branch === undefined || input.branch === null ? null : checkBranchName(input.branch)
    const rawContext = input.context ?? null
    if (typeof rawContext !== 'object' || Array.isArray(rawContext)) throw new BadRequestError('context must be an object.', 'invalid_context')
    const context = rawContext as Record<string, unknown> | null
    if (this.stopping) throw new ServiceUnavailableError('The server is shutting down; start the task once it is back.', 'shutting_down')
    const agentName = input.agent ?? this.options.defaultAgent
    const prepared = this.options.agents.prepare(agentName, { instruction, context })
    await this.keeper.ensureRoom()

    const state = this.stateOf(session.id)
    const limit = this.options.maxTasksPerSession ?? 4
    const busy = [...state.runs.values()].filter((run) => run.busy).length
    if (busy >= limit) {
      throw new TooManyRequestsError(`This session already runs ${busy} tasks (the limit is ${limit}); wait for one or cancel it.`)
    }
    const now = new Date().toISOString()
    const task: TaskRecord = {
      id: crypto.randomUUID(),
      sessionId: session.id,
      instruction,
      agent: prepared.agent.name,
      branch,
      context,
      status: 'pending',
      phase: null,
      createdAt: now,
      startedAt: now,
      updatedAt: now,
      endedAt: null,
      exitCode: null,
      error: null,
      patchCount: 0,
      commit: null,
      workspaceDir: null,
      baseline: null,
    }
    this.store.insert(task)
    const publish = <D extends EventDefinition>(definition: D, fields: EventFields<D>) => {
      if (!state.stopped) this.options.events.publish(session.id, definition, fields)
    }
    publish(TaskStatusEvent, { taskId: task.id, status: 'pending' })
    if (prepared.mode === 'acp') {
      const run = this.conversationRun(session, task.id, prepared, publish)
      state.runs.set(task.id, run)
      run.start(instruction)
    } else {
      const run = new TaskRun(task.id, session.repo, prepared, {
        store: this.store,
        workspaces: this.workspaces,
        publish,
        taskTimeoutMs: this.options.taskTimeoutMs,
        scrollbackBytes: this.options.scrollbackBytes,
        environment: this.options.environment,
        logger: this.logger,
      })
      state.runs.set(task.id, run)
      run.start()
      void run.done.then(() => this.retire(state, run)).catch((error) => this.logger.error('retiring a task failed', { taskId: task.id, error: describeError(error) }))
    }
    this.trimHistory(session.id)
    this.sweepOrphansOnce()
    return toTaskView(task)
  }

  private conversationRun(session: Session, taskId: string, prepared: ReturnType<AgentRegistry['prepare']>, publish: Publish): ConversationRun {
    const state = this.stateOf(session.id)
    const run = new ConversationRun(taskId, session.repo, prepared, {
      store: this.store,
      workspaces: this.workspaces,
      conversations: this.conversations,
      approvals: this.approvals,
      publish,
      sessionId: session.id,
      turnTimeoutMs: this.options.taskTimeoutMs,
      idleMs: this.options.agentIdleMs ?? 1_800_000,
      requestTimeoutMs: this.options.acpRequestTimeoutMs ?? 120_000,
      environment: this.options.environment,
      logger: this.logger,
    })
    void run.done.then(() => {
      if (state.runs.get(taskId) === run) state.runs.delete(taskId)
    })
    return run
  }

  list(sessionId: string): TaskView[] {
    return this.store.listBySession(sessionId).map(toTaskView)
  }

  get(session: Session, taskId: string): TaskView {
    return toTaskView(this.own(session, taskId))
  }

  /** Stops the agent's process tree and waits until the task is `cancelled`; 409 once it has ended. */
  async cancel(session: Session, taskId: string): Promise<TaskView> {
    const task = this.own(session, taskId)
    const run = this.sessions.get(session.id)?.runs.get(taskId)
    if (FINISHED_STATUSES.has(task.status) || !run || !run.acceptsInput) {
      throw new ConflictError(`Task ${taskId} has already ended (${task.status}); only a pending or running task can be cancelled.`, 'task_finished')
    }
    await run.cancel()
    await run.done
    const ended = this.own(session, taskId)
    if (ended.status !== 'cancelled') {
      throw new ConflictError(`Task ${taskId} ended (${ended.status}) before it could be cancelled.`, 'task_finished')
    }
    // A cancelled task cannot be applied: its workspace has nothing left to give (its patches are saved).
    await this.keeper.remove(taskId)
    return toTaskView(this.own(session, taskId))
  }

  /** The task's changes: live from its workspace while it runs, the saved ones once it ended. */
  async patches(session: Session, taskId: string): Promise<FilePatch[]> {
    const task = this.own(session, taskId)
    const saved = this.store.patches(taskId)
    // A conversation's next turn changes the workspace again: live while it runs.
    if (saved && task.status !== 'running') return saved
    if (task.workspaceDir === null || task.baseline === null) return []
    return diffWorkspace(task.workspaceDir, task.baseline)
  }

  /**
   * Applies and commits (atomic in the repo, see git/apply-commit.ts), then records it. Shutdown
   * waits for an apply in flight, so its client gets the answer that matches the repo.
   */
  async apply(session: Session, taskId: string, request: ApplyRequest): Promise<ApplyResult> {
    const task = this.own(session, taskId)
    if (this.stopping) throw new ServiceUnavailableError('The server is shutting down; apply once it is back.', 'shutting_down')
    if (this.applying.has(taskId)) throw new ConflictError(`Task ${taskId} is being applied right now.`, 'apply_in_progress')
    const applying = this.applyNow(session, task, request)
    this.applying.set(taskId, applying)
    try {
      return await applying
    } finally {
      this.applying.delete(taskId)
    }
  }

  private async applyNow(session: Session, task: TaskRecord, request: ApplyRequest): Promise<ApplyResult> {
    const taskId = task.id
    const result = await applyTask(session.repo, task, this.store.patches(taskId) ?? [], request)
    this.store.update(taskId, { status: 'applied', phase: null, commit: result.commit, updatedAt: new Date().toISOString() })
    const state = this.sessions.get(session.id)
    if (state && !state.stopped) this.options.events.publish(session.id, TaskStatusEvent, { taskId, status: 'applied' })
    // Applied ends the conversation: its agent stops, and a follow-up is refused (409).
    const conversation = state?.runs.get(taskId)
    if (conversation instanceof ConversationRun) await conversation.close()
    await this.keeper.remove(taskId)
    return result
  }

  /** DELETE /api/tasks/{id}: cancels the task if it runs, then removes its record and its workspace. */
  async remove(session: Session, taskId: string): Promise<void> {
    const task = this.own(session, taskId)
    if (this.applying.has(taskId)) throw new ConflictError(`Task ${taskId} is being applied right now; delete it afterwards.`, 'apply_in_progress')
    const state = this.sessions.get(session.id)
    const run = state?.runs.get(taskId)
    if (run) {
      await run.cancel()
      await run.done
    }
    state?.finished.delete(taskId)
    await this.keeper.remove(taskId)
    this.store.delete(taskId)
  }

  /** Workspaces past WORKSPACE_RETENTION_DAYS go (see WorkspaceKeeper); returns how many. */
  sweepRetention(now = new Date()): Promise<number> {
    return this.keeper.sweepRetention(now)
  }

  /** Measures the workspaces kept from before this process, so the disk quota counts them. */
  measureKeptWorkspaces(): Promise<void> {
    return this.keeper.measureKept()
  }

  terminalFor(sessionId: string, taskId: string): Terminal | undefined {
    const state = this.sessions.get(sessionId)
    const run = state?.runs.get(taskId)
    return (run instanceof TaskRun ? run.terminal : null) ?? state?.finished.get(taskId)
  }

  /**
   * A follow-up. With `taskId`: that task's conversation (queued while a turn runs; an acp task
   * whose agent stopped is started again), or typed into a print-mode agent that is still running.
   * Without: the session's newest task that is running or completed and not applied; none, a new
   * task with the default agent. 409 for a task that cannot take one (applied, cancelled, ended print task).
   */
  async sendUserMessage(session: Session, content: unknown, taskId?: string): Promise<FollowUpResult> {
    if (typeof content !== 'string' || content.trim() === '') throw new BadRequestError('content must be a non-empty string.', 'invalid_message')
    if (content.length > TASK_LIMITS.maxUserMessageChars) {
      throw new BadRequestError(`content is over ${TASK_LIMITS.maxUserMessageChars} characters.`, 'invalid_message')
    }
    const target = taskId !== undefined ? this.own(session, taskId) : this.newestConversable(session)
    if (!target) {
      const task = await this.create(session, { instruction: content })
      return { taskId: task.taskId, started: true, queued: false }
    }
    const state = this.stateOf(session.id)
    const run = state.runs.get(target.id)
    if (run instanceof TaskRun) {
      if (!run.acceptsInput) throw this.noFollowUp(target)
      const agent = this.options.agents.get(target.agent)
      const answer = run.prompt && agent?.answer ? agent.answer(run.prompt, content) : null
      // A terminal ends a line with CR (the Enter key); the line discipline turns it into NL.
      run.write(answer ?? `${content.replace(/\r?\n/g, '\r')}\r`)
      return { taskId: target.id, started: false, queued: false }
    }
    if (target.status === 'applied' || target.status === 'cancelled' || target.workspaceDir === null) throw this.noFollowUp(target)
    const conversation = run instanceof ConversationRun && run.acceptsInput ? run : this.resumeConversation(session, target)
    const queued = conversation.busy
    if (conversation.queueLength >= MAX_QUEUED_FOLLOW_UPS) {
      throw new TooManyRequestsError(`Task ${target.id} already has ${MAX_QUEUED_FOLLOW_UPS} follow-ups waiting; wait for the agent to take them.`)
    }
    conversation.followUp(content)
    return { taskId: target.id, started: false, queued }
  }

  /** The transcript of a task's conversation (print-mode tasks: the instruction only). */
  messages(session: Session, taskId: string): ConversationMessage[] {
    const task = this.own(session, taskId)
    const messages = this.conversations.list(taskId)
    if (messages.length > 0) return messages
    return [{ taskId, messageId: `instruction-${taskId}`, role: 'user', content: task.instruction, ts: task.createdAt }]
  }

  approvalsOf(session: Session, taskId: string): ApprovalRecord[] {
    this.own(session, taskId)
    return this.approvals.list(taskId)
  }

  /** A client's answer to an approval; see Approvals.answer. */
  answerApproval(session: Session, messageId: string, answer: ApprovalAnswer, taskId?: string): { messageId: string; outcome: ApprovalOutcome } {
    if (taskId !== undefined) this.own(session, taskId)
    return this.approvals.answer((id) => this.store.get(id)?.sessionId === session.id, messageId, answer, taskId)
  }

  private newestConversable(session: Session): TaskRecord | undefined {
    const runs = this.sessions.get(session.id)?.runs
    return this.store.listBySession(session.id).find((task) => {
      const run = runs?.get(task.id)
      if (run instanceof TaskRun) return run.acceptsInput
      if (run instanceof ConversationRun) return run.acceptsInput && (task.status === 'running' || task.status === 'pending' || task.status === 'completed')
      return false
    })
  }

  /**
   * A conversation whose run is gone (the server restarted; the task failed before): a new run
   * on the same workspace, so the follow-up starts the agent again. Only acp-mode agents.
   */
  private resumeConversation(session: Session, task: TaskRecord): ConversationRun {
    const agent = this.options.agents.get(task.agent)
    if (!agent || this.options.agents.modeOf(agent) !== 'acp') throw this.noFollowUp(task)
    const prepared = this.options.agents.prepare(task.agent, { instruction: task.instruction, context: task.context })
    const state = this.stateOf(session.id)
    const publish: Publish = (definition, fields) => {
      if (!state.stopped) this.options.events.publish(session.id, definition, fields)
    }
    const run = this.conversationRun(session, task.id, prepared, publish)
    state.runs.set(task.id, run)
    return run
  }

  private noFollowUp(task: TaskRecord): ConflictError {
    const why =
      task.status === 'applied'
        ? 'is applied; start a new task'
        : task.status === 'cancelled'
          ? 'was cancelled; start a new task'
          : `is ${task.status} and its agent runs in print mode, which takes no follow-ups after it ends; start a new task`
    return new ConflictError(`Task ${task.id} ${why}.`, 'task_finished')
  }

  /** Ends a session's tasks: kills running agents, then removes its workspaces and records. */
  async stopSession(sessionId: string): Promise<void> {
    const state = this.sessions.get(sessionId)
    if (state) {
      state.stopped = true
      const runs = [...state.runs.values()]
      await Promise.allSettled(runs.map((run) => (run instanceof ConversationRun ? run.close() : run.cancel())))
      await Promise.allSettled(runs.map((run) => run.done))
      this.sessions.delete(sessionId)
    }
    for (const task of this.store.listBySession(sessionId)) this.forget(task.id)
    await this.workspaces.remove(this.workspaces.sessionDir(sessionId))
  }

  /**
   * Server shutdown: lets applies in flight finish (their clients get their answer), then stops
   * every agent; those tasks end `failed` with SERVER_STOPPED_ERROR. Records and workspaces stay
   * for the next start. New tasks and applies are refused from now on (503).
   */
  async shutdown(): Promise<void> {
    this.stopping = true
    await Promise.allSettled([...this.applying.values()])
    const runs = [...this.sessions.values()].flatMap((state) => [...state.runs.values()])
    // A conversation's agent stops without a status change: one between turns stays `completed`
    // (a follow-up after the restart continues it), one mid-turn is marked failed below.
    await Promise.allSettled(runs.map((run) => (run instanceof ConversationRun ? run.close() : run.stopForShutdown())))
    // An agent that will not die or a huge diff must not hold the shutdown: the record says it stopped.
    await Promise.race([Promise.allSettled(runs.map((run) => run.done)), Bun.sleep(SHUTDOWN_WAIT_MS)])
    const now = new Date().toISOString()
    for (const run of runs) {
      const task = this.store.get(run.taskId)
      if (task && !FINISHED_STATUSES.has(task.status)) {
        this.store.update(run.taskId, { status: 'failed', phase: null, endedAt: now, updatedAt: now, error: SERVER_STOPPED_ERROR })
        // Told as events too (kept in state.db), so a client resuming after the restart sees it.
        this.options.events.publish(task.sessionId, TaskStatusEvent, { taskId: task.id, status: 'failed' })
        this.options.events.publish(task.sessionId, TaskErrorEvent, { taskId: task.id, message: SERVER_STOPPED_ERROR })
      }
    }
  }

  /** Once per process, in the background: workspaces left by an earlier server process go. */
  private sweepOrphansOnce(): void {
    if (this.orphansSwept) return
    this.orphansSwept = true
    this.workspaces
      .removeOrphans((sessionId) => this.sessions.has(sessionId) || this.store.listBySession(sessionId).length > 0)
      .catch((error) => this.logger.error('removing old task workspaces failed', { root: this.workspaces.root, error: describeError(error) }))
  }

  /** A task's record, transcript and approvals go (in memory; a persistent store deletes by cascade). */
  private forget(taskId: string): void {
    this.store.delete(taskId)
    if (this.conversations instanceof MemoryConversationStore) this.conversations.deleteTask(taskId)
    if (this.approvalStore instanceof MemoryApprovalStore) this.approvalStore.deleteTask(taskId)
  }

  private stateOf(sessionId: string): SessionTasks {
    let state = this.sessions.get(sessionId)
    if (!state) {
      state = { stopped: false, runs: new Map(), finished: new Map() }
      this.sessions.set(sessionId, state)
    }
    return state
  }

  /** Another session's task is 404 like an unknown one, so ids do not leak. */
  private own(session: Session, taskId: string): TaskRecord {
    const task = this.store.get(taskId)
    if (!task || task.sessionId !== session.id) throw new NotFoundError(`No task ${taskId} in this session.`, 'task_not_found')
    return task
  }

  private retire(state: SessionTasks, run: TaskRun): void {
    if (state.runs.get(run.taskId) !== run) return
    state.runs.delete(run.taskId)
    if (state.stopped || !run.terminal) return
    state.finished.set(run.taskId, run.terminal)
    for (const taskId of state.finished.keys()) {
      if (state.finished.size <= FINISHED_TERMINALS_KEPT) break
      state.finished.delete(taskId)
    }
  }

  private trimHistory(sessionId: string): void {
    const keep = this.options.maxHistoryPerSession ?? 200
    const tasks = this.store.listBySession(sessionId)
    const state = this.sessions.get(sessionId)
    for (const task of tasks.slice(keep).reverse()) {
      const run = state?.runs.get(task.id)
      if ((run && run.busy) || this.applying.has(task.id)) continue
      if (run instanceof ConversationRun) {
        state?.runs.delete(task.id)
        void run.close()
      }
      if (task.workspaceDir) void this.workspaces.remove(task.workspaceDir).catch((error) => this.logger.error('workspace removal failed', { dir: task.workspaceDir, error: describeError(error) }))
      state?.finished.delete(task.id)
      this.forget(task.id)
    }
  }
}
