import { aider } from './aider'
import { claude } from './claude'
import { createCliAgent, type CliAgentDefinition } from './cli-agent'
import { cline } from './cline'
import { codex } from './codex'
import { createCustomAgent } from './custom'
import { gemini } from './gemini'
import { createMockAgent } from './mock'
import { opencode } from './opencode'
import { AgentRegistry } from './registry'
import type { Agent } from './types'

export { AgentRegistry, type PreparedAgent } from './registry'
export type { Agent, AgentInfo, AgentLaunch, AgentPrompt, AgentRequest, PreparedRun } from './types'
export { runMockAgentProcess, MOCK_AGENT_MARKER } from './mock-agent-process'
export { createMockAgent, mockAgentCommand } from './mock'
export { createCliAgent, type CliAgentDefinition } from './cli-agent'
export { INSTRUCTION_PLACEHOLDER } from './command-line'

/** Every CLI adapter; adding an agent is one file with a definition, listed here. */
export const CLI_AGENTS: readonly CliAgentDefinition[] = [claude, codex, aider, gemini, opencode, cline]

export type AgentRegistryOptions = {
  /** AGENT_<NAME>_CMD overrides by lower-case name (Config.agentCommands); `custom` defines the custom agent. */
  agentCommands?: Readonly<Record<string, string>>
  /** argv prefix of the mock agent; defaults to this server's own executable. */
  mockCommand?: string[]
  /** The PATH agents' programs are looked up on (Config.environment.PATH). */
  searchPath: () => string
}

/** The registry the server uses. Throws ConfigError when an AGENT_<NAME>_CMD cannot be parsed. */
export function createAgentRegistry(options: AgentRegistryOptions): AgentRegistry {
  const commands = options.agentCommands ?? {}
  const agents: Agent[] = [
    createMockAgent(options.mockCommand),
    ...CLI_AGENTS.map((definition) => createCliAgent(definition, commands[definition.name])),
    createCustomAgent(commands.custom),
  ]
  return new AgentRegistry(agents, options.searchPath)
}
