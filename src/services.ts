import { createAgentRegistry, type AgentRegistry, type AgentRegistryOptions } from './agents'
import { CommandRunner, type CommandRunnerOptions } from './cmdexec'
import type { Config } from './config'
import { DEFAULT_RING_LIMITS, EventHub, OutgoingCheck, type EventLog, type OutgoingFailures } from './events'
import { holdGitWorkers, recoverInterruptedApply } from './git'
import { createLogger, type Logger } from './logger'
import { createTerminalServices, type TerminalManager, type TerminalManagerOptions } from './pty'
import { endMarkedProcesses } from './procs'
import { MemorySessionStore, type SessionPersistence, type SessionStore } from './session'
import { openState, type State } from './store'
import { TaskService, type TaskServiceOptions } from './tasks'
import { VERSION } from './version'
import { SessionSockets, SocketLayer, type SocketLayerDeps } from './ws'

/**
 * Every long-lived service of one server process, built from the Config. main.ts and the tests
 * build the same graph; createApp only wires routes onto it. Each layer's per-session clean-up is
 * registered here, so ending a session ends everything it started.
 */
export type Services = {
  config: Config
  logger: Logger
  sessions: SessionStore
  events: EventHub
  commands: CommandRunner
  agents: AgentRegistry
  tasks: TaskService
  terminals: TerminalManager
  /** Open WebSockets per session, closed when their session ends. */
  sockets: SessionSockets
  /** The two sockets' open/close/frames, behind the routes. */
  ws: SocketLayer
  version: string
  startedAt: number
  /** STATE_DIR/state.db: sessions, tasks, events, conversations, approvals. */
  state: State
  /** Settles once applies a killed server left half done are finished or undone in every session repo. */
  recovered: Promise<void>
  /** Stops everything (session clean-ups, timers); the HTTP server is stopped by its owner. */
  shutdown(): Promise<void>
}

/**
 * What a test (or a bench) may swap in the real graph: the logger, STATE_DIR's opened state
 * (main.ts opens it first, to keep the secrets next to it), and any option of a layer the Config
 * does not set (a fake agent's PATH, a shorter timeout, the terminal's shell). Everything not
 * overridden is wired exactly as the server wires it.
 */
export type ServiceOverrides = {
  logger?: Logger
  state?: State
  /** null: events are kept in memory only (the bench's reference for what state.db costs). */
  eventLog?: EventLog | null
  /** null: sessions are kept in memory only (with eventLog null and a MemoryTaskStore, the in-memory build). */
  sessionPersistence?: SessionPersistence | null
  /**
   * An event or frame the server makes that does not fit its schema: `log` (the default, the
   * server as shipped: sent anyway and logged) or `throw` (the tests: fails where it was made).
   */
  outgoingFailures?: OutgoingFailures
  agents?: Partial<AgentRegistryOptions>
  tasks?: Partial<Omit<TaskServiceOptions, 'events' | 'agents'>>
  commands?: Partial<Omit<CommandRunnerOptions, 'events'>>
  terminals?: Partial<TerminalManagerOptions>
  ws?: Partial<Pick<SocketLayerDeps, 'maxQueuedBytes' | 'ptyFlow' | 'taskTerminalWaitMs'>>
}

/** Throws StateError (one line) when STATE_DIR cannot be used (not writable, in use, newer schema). */
export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? createLogger(config.logLevel, config.logFormat)
  const state = overrides.state ?? openState(config.stateDir, { onWriteError: (error) => logger.error('state.db write failed', { error: String(error) }) })
  const sessions = new MemorySessionStore(config.sessionTtlSeconds, undefined, logger, overrides.sessionPersistence === undefined ? state.sessions : overrides.sessionPersistence)
  const outgoing = new OutgoingCheck(overrides.outgoingFailures ?? 'log', logger)
  const events = new EventHub(state.epoch, DEFAULT_RING_LIMITS, logger, overrides.eventLog === undefined ? state.events : overrides.eventLog, outgoing)
  const commands = new CommandRunner({
    allowlist: config.cmdAllowlist,
    events,
    maxTimeoutMs: config.cmdTimeoutMaxMs,
    outputLimitBytes: config.cmdOutputLimitBytes,
    concurrencyPerSession: config.cmdConcurrencyPerSession,
    parentEnv: config.environment,
    logger,
    ...overrides.commands,
  })

  const agents = createAgentRegistry({
    agentCommands: config.agentCommands,
    agentModes: config.agentModes,
    agentAcpCommands: config.agentAcpCommands,
    searchPath: () => config.environment.PATH ?? '',
    ...overrides.agents,
  })
  const tasks = new TaskService({
    stateDir: config.stateDir,
    events,
    agents,
    defaultAgent: config.defaultAgent,
    taskTimeoutMs: config.taskTimeoutMs,
    scrollbackBytes: config.ptyScrollbackBytes,
    workspaceMaxBytes: config.workspaceMaxBytes,
    workspaceRetentionDays: config.workspaceRetentionDays,
    store: state.tasks,
    // The transcript and approvals are kept in state.db, so a conversation reads the same after a restart.
    conversations: state.conversations,
    approvalStore: state.approvals,
    environment: config.environment,
    logger,
    approvalPolicy: config.approvalPolicy,
    approvalTimeoutMs: config.approvalTimeoutMs,
    cmdAllowlist: config.cmdAllowlist,
    agentIdleMs: config.agentIdleMs,
    acpRequestTimeoutMs: config.acpRequestTimeoutMs,
    ...overrides.tasks,
  })

  // An apply a killed server left half done is finished (or undone); main.ts waits for it before listening.
  const recovered = Promise.all(
    [...new Set(sessions.list().map((session) => session.repo))].map((repo) =>
      recoverInterruptedApply(repo)
        .then((outcome) => void (outcome !== 'none' && logger.warn('finished an interrupted apply', { repo, outcome })))
        .catch((error) => logger.error('recovering an interrupted apply failed', { repo, error: String(error) })),
    ),
  ).then(() => undefined)

  // Sockets close first (4410 "session ended"), so clients see why before a shell's hang-up would
  // send them an `exit` frame: this clean-up's synchronous part runs before the terminals'.
  const sockets = new SessionSockets((sessionId) => sessions.get(sessionId) !== undefined)
  sessions.onEnd((session, reason) => sockets.closeSession(session.id, reason))
  const terminalLayer = createTerminalServices({ config, sessions, logger, overrides: overrides.terminals })
  const ws = new SocketLayer({ terminals: terminalLayer.terminals, events, tasks, sockets, logger, ...overrides.ws })

  // Processes first, then the bus: their last events still reach subscribers before it closes.
  // Alongside, whatever the session started that escaped its group and session (a daemonising
  // dev server): no layer knows of it, the session's marker in its environment finds it. It runs
  // beside the layers' own kills, not after them, so a shutdown waits for one grace, not two;
  // the layers signal first (their synchronous part runs before this starts), so a command
  // still ends as `killed`. The grace matches the longest of theirs (a terminal's 2 s).
  sessions.onEnd(async (session) => {
    const layers = Promise.all([commands.stopSession(session.id), tasks.stopSession(session.id)])
    const sweep = endMarkedProcesses({ sessionId: session.id }, { graceMs: 2000 })
    await layers
    events.closeSession(session.id)
    const escaped = await sweep
    if (escaped.left > 0) logger.warn('processes of an ended session survived SIGKILL', { sessionId: session.id, ...escaped })
    else if (escaped.found > 0) logger.info('ended processes that escaped their session', { sessionId: session.id, ...escaped })
  })

  // Soon after start-up (not during it: it reads every task), sessions that expired while the
  // server was down end (and their workspaces go), and so do workspaces past
  // WORKSPACE_RETENTION_DAYS. Kept workspaces are measured for the disk quota.
  const sweepAll = () => {
    sessions.sweep().catch((error) => logger.error('session sweep failed', { error: String(error) }))
    tasks.sweepRetention().catch((error) => logger.error('workspace retention sweep failed', { error: String(error) }))
  }
  // The git workers (diffs, status, workspace copies) stop with this server.
  const releaseGitWorkers = holdGitWorkers()
  const sweep = setInterval(sweepAll, 30_000)
  sweep.unref()
  const firstSweep = setTimeout(() => {
    sweepAll()
    tasks.measureKeptWorkspaces().catch((error) => logger.error('measuring kept workspaces failed', { error: String(error) }))
  }, 1000)
  firstSweep.unref()

  return {
    config,
    logger,
    sessions,
    events,
    commands,
    agents,
    tasks,
    terminals: terminalLayer.terminals,
    sockets,
    ws,
    version: VERSION,
    startedAt: Date.now(),
    state,
    recovered,
    /**
     * Finishes what was started and keeps every record: an apply in flight completes (and its
     * client gets the answer), then agents, commands and terminals stop; sessions, tasks and
     * workspaces stay in STATE_DIR for the next start.
     */
    async shutdown() {
      clearInterval(sweep)
      clearTimeout(firstSweep)
      await tasks.shutdown()
      sockets.closeAll()
      await Promise.all([commands.shutdown(), terminalLayer.shutdown()])
      releaseGitWorkers()
      state.close()
    },
  }
}
