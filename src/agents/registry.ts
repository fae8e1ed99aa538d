import { BadRequestError } from '../errors'
import { resolveProgram } from '../policy/programs'
import type { AcpEntryPoint, Agent, AgentInfo, AgentLaunch, AgentMode, AgentModeSetting, AgentRequest } from './types'

/** An agent ready to start: the program resolved to an absolute path on the server's PATH. */
export type PreparedAgent = { agent: Agent; mode: AgentMode; file: string; args: string[] }

export type AgentModeOptions = {
  /** AGENT_<NAME>_MODE by lower-case name; absent = auto. */
  modes?: Readonly<Record<string, AgentModeSetting>>
  /** AGENT_<NAME>_ACP_CMD by lower-case name, already split into words. */
  acpCommands?: Readonly<Record<string, readonly string[]>>
}

/**
 * The agents this server knows, looked up by name. Availability and mode are checked when asked
 * (a CLI or ACP entry point installed while the server runs shows up without a restart).
 */
export class AgentRegistry {
  private readonly agents = new Map<string, Agent>()

  constructor(
    agents: readonly Agent[],
    /** The PATH programs are resolved on: the server's own (Config.environment), read when needed. */
    private readonly searchPath: () => string,
    private readonly modeOptions: AgentModeOptions = {},
  ) {
    for (const agent of agents) {
      if (this.agents.has(agent.name)) throw new Error(`two agents are named ${agent.name}`)
      this.agents.set(agent.name, agent)
    }
  }

  get(name: string): Agent | undefined {
    return this.agents.get(name)
  }

  list(): AgentInfo[] {
    return [...this.agents.values()].map((agent) => {
      const mode = this.modeOf(agent)
      const description = mode === 'acp' ? (this.acpEntryOf(agent)?.description ?? agent.description) : agent.description
      return { name: agent.name, available: this.availableIn(agent, mode), description, mode, approvals: mode === 'acp' }
    })
  }

  availableNames(): string[] {
    return this.list()
      .filter((info) => info.available)
      .map((info) => info.name)
  }

  /**
   * How `agent` runs now: AGENT_<NAME>_MODE when it says acp or print; on auto, acp when the
   * agent has an ACP entry point proven to ask for approvals (AcpEntryPoint.auto), or one set by
   * AGENT_<NAME>_ACP_CMD, and it is found on PATH (any other CLI stays in print mode).
   */
  modeOf(agent: Agent): AgentMode {
    const setting = this.modeOptions.modes?.[agent.name] ?? 'auto'
    if (setting !== 'auto') return setting
    const entry = this.acpEntryOf(agent)
    return entry !== null && entry.auto === true && this.resolveAgentProgram(entry.program) !== null ? 'acp' : 'print'
  }

  /**
   * Checks that `name` can run `request` and builds its argv for the mode it runs in. Unknown or
   * not installed: 400 naming the agents that are available.
   */
  prepare(name: string, request: AgentRequest): PreparedAgent {
    const agent = this.agents.get(name)
    const available = this.availableNames()
    const choices = available.length > 0 ? `available: ${available.join(', ')}` : 'no agent is available on this server'
    if (!agent) throw new BadRequestError(`Unknown agent "${name}"; ${choices}.`, 'unknown_agent')
    const mode = this.modeOf(agent)
    if (!this.availableIn(agent, mode)) throw new BadRequestError(`Agent "${name}" ${this.whatIsMissing(agent, mode)}; ${choices}.`, 'agent_unavailable')
    agent.validate?.(request)
    const launch = mode === 'acp' ? this.acpLaunchOf(agent, request) : agent.launch(request)
    const file = this.resolveAgentProgram(launch.file)
    if (file === null) throw new BadRequestError(`Agent "${name}" needs "${launch.file}" on the server's PATH; ${choices}.`, 'agent_unavailable')
    return { agent, mode, file, args: launch.args }
  }

  /** An agent's program may be an absolute path (the operator configured it), never a relative one. */
  private resolveAgentProgram(file: string): string | null {
    const resolved = resolveProgram(file, this.searchPath(), { allowAbsolutePath: true })
    return resolved.ok ? resolved.path : null
  }

  private whatIsMissing(agent: Agent, mode: AgentMode): string {
    if (mode === 'acp') {
      const entry = this.acpEntryOf(agent)
      const upper = agent.name.toUpperCase()
      if (entry === null) return `has no ACP entry point (AGENT_${upper}_MODE=acp); set AGENT_${upper}_ACP_CMD or AGENT_${upper}_MODE=print`
      return `needs its ACP entry point "${entry.program}" on the server's PATH (AGENT_${upper}_MODE=acp)`
    }
    return agent.program === null ? 'is not configured' : `needs "${agent.program}" on the server's PATH`
  }

  private availableIn(agent: Agent, mode: AgentMode): boolean {
    if (mode === 'print') return agent.program !== null && this.resolveAgentProgram(agent.program) !== null
    const entry = this.acpEntryOf(agent)
    return entry !== null && this.resolveAgentProgram(entry.program) !== null
  }

  /** AGENT_<NAME>_ACP_CMD (the operator's own choice, so auto takes it), else the adapter's own entry point. */
  private acpEntryOf(agent: Agent): AcpEntryPoint | null {
    const override = this.modeOptions.acpCommands?.[agent.name]
    if (override && override.length > 0) {
      return { program: override[0]!, args: override.slice(1), auto: true, description: `${agent.name} over ACP (command line from AGENT_${agent.name.toUpperCase()}_ACP_CMD)` }
    }
    return agent.acp ?? null
  }

  private acpLaunchOf(agent: Agent, request: AgentRequest): AgentLaunch {
    const override = this.modeOptions.acpCommands?.[agent.name]
    if ((!override || override.length === 0) && agent.acpLaunch) return agent.acpLaunch(request)
    const entry = this.acpEntryOf(agent)!
    return { file: entry.program, args: [...entry.args] }
  }
}
