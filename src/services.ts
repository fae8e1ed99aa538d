import { randomUUID } from 'node:crypto'
import { createAgentRegistry, type AgentRegistry, type AgentRegistryOptions } from './agents'
import { CommandRunner, type CommandRunnerOptions } from './cmdexec'
import type { Config } from './config'
import { EventHub } from './events'
import { createLogger, type Logger } from './logger'
import { createTerminalServices, type TerminalManager, type TerminalManagerOptions } from './pty'
import { endMarkedProcesses } from './procs'
import { MemorySessionStore, type SessionStore } from './session'
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
  /** Stops everything (session clean-ups, timers); the HTTP server is stopped by its owner. */
  shutdown(): Promise<void>
}

/**
 * What a test (or a bench) may swap in the real graph: the logger, and any option of a layer the
 * Config does not set (a fake agent's PATH, a shorter timeout, the terminal's shell). Everything
 * not overridden is wired exactly as the server wires it.
 */
export type ServiceOverrides = {
  logger?: Logger
  agents?: Partial<AgentRegistryOptions>
  tasks?: Partial<Omit<TaskServiceOptions, 'events' | 'agents'>>
  commands?: Partial<Omit<CommandRunnerOptions, 'events'>>
  terminals?: Partial<TerminalManagerOptions>
  ws?: Partial<Pick<SocketLayerDeps, 'maxQueuedBytes' | 'ptyFlow' | 'taskTerminalWaitMs'>>
}

export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? createLogger(config.logLevel, config.logFormat)
  const sessions = new MemorySessionStore(config.sessionTtlSeconds, undefined, logger)
  const events = new EventHub(randomUUID(), undefined, logger)
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
    environment: config.environment,
    logger,
    approvalPolicy: config.approvalPolicy,
    approvalTimeoutMs: config.approvalTimeoutMs,
    cmdAllowlist: config.cmdAllowlist,
    agentIdleMs: config.agentIdleMs,
    acpRequestTimeoutMs: config.acpRequestTimeoutMs,
    ...overrides.tasks,
  })

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

  const sweep = setInterval(() => {
    sessions.sweep().catch((error) => logger.error('session sweep failed', { error: String(error) }))
  }, 30_000)
  sweep.unref()

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
    async shutdown() {
      clearInterval(sweep)
      await sessions.endAll('shutdown')
      sockets.closeAll()
      await Promise.all([commands.shutdown(), tasks.shutdown(), terminalLayer.shutdown()])
    },
  }
}
