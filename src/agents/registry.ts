import { BadRequestError } from '../errors'
import { resolveProgram } from '../policy/programs'
import type { Agent, AgentInfo, AgentRequest } from './types'

/** An agent ready to start: the program resolved to an absolute path on the server's PATH. */
export type PreparedAgent = { agent: Agent; file: string; args: string[] }

/**
 * The agents this server knows, looked up by name. Availability is checked when asked (a CLI
 * installed while the server runs shows up without a restart).
 */
export class AgentRegistry {
  private readonly agents = new Map<string, Agent>()

  constructor(
    agents: readonly Agent[],
    /** The PATH programs are resolved on: the server's own (Config.environment), read when needed. */
    private readonly searchPath: () => string,
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
    return [...this.agents.values()].map((agent) => ({
      name: agent.name,
      available: this.programOf(agent) !== null,
      description: agent.description,
    }))
  }

  availableNames(): string[] {
    return this.list()
      .filter((info) => info.available)
      .map((info) => info.name)
  }

  /**
   * Checks that `name` can run `request` and builds its argv. Unknown or not installed: 400 naming
   * the agents that are available.
   */
  prepare(name: string, request: AgentRequest): PreparedAgent {
    const agent = this.agents.get(name)
    const available = this.availableNames()
    const choices = available.length > 0 ? `available: ${available.join(', ')}` : 'no agent is available on this server'
    if (!agent) throw new BadRequestError(`Unknown agent "${name}"; ${choices}.`, 'unknown_agent')
    if (this.programOf(agent) === null) {
      const what = agent.program === null ? 'is not configured' : `needs "${agent.program}" on the server's PATH`
      throw new BadRequestError(`Agent "${name}" ${what}; ${choices}.`, 'agent_unavailable')
    }
    agent.validate?.(request)
    const launch = agent.launch(request)
    const file = this.resolveAgentProgram(launch.file)
    if (file === null) throw new BadRequestError(`Agent "${name}" needs "${launch.file}" on the server's PATH; ${choices}.`, 'agent_unavailable')
    return { agent, file, args: launch.args }
  }

  private programOf(agent: Agent): string | null {
    return agent.program === null ? null : this.resolveAgentProgram(agent.program)
  }

  /** An agent's program may be an absolute path (the operator configured it), never a relative one. */
  private resolveAgentProgram(file: string): string | null {
    const resolved = resolveProgram(file, this.searchPath(), { allowAbsolutePath: true })
    return resolved.ok ? resolved.path : null
  }
}
