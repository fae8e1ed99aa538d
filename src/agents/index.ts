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
import { parseAgentCommandLine } from './command-line'
import { ConfigError } from '../config'
import type { Agent, AgentModeSetting } from './types'

export { AgentRegistry, type PreparedAgent } from './registry'
export type { Agent, AgentInfo, AgentLaunch, AgentMode, AgentModeSetting, AgentPrompt, AgentRequest, PreparedRun } from './types'
// runMockAgentProcess is imported from './mock-agent-process' by main.ts alone, when it runs as the mock.
export { MOCK_AGENT_MARKER } from './mock-marker'
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
  /** AGENT_<NAME>_MODE by lower-case name (Config.agentModes). */
  agentModes?: Readonly<Record<string, AgentModeSetting>>
  /** AGENT_<NAME>_ACP_CMD by lower-case name (Config.agentAcpCommands). */
  agentAcpCommands?: Readonly<Record<string, string>>
}

/** The registry the server uses. Throws ConfigError when an AGENT_<NAME>_CMD or _ACP_CMD cannot be parsed. */
export function createAgentRegistry(options: AgentRegistryOptions): AgentRegistry {
  const commands = options.agentCommands ?? {}
  const agents: Agent[] = [
    createMockAgent(options.mockCommand),
    ...CLI_AGENTS.map((definition) => createCliAgent(definition, commands[definition.name])),
    createCustomAgent(commands.custom),
  ]
  const acpCommands: Record<string, string[]> = {}
  for (const [name, line] of Object.entries(options.agentAcpCommands ?? {})) {
    try {
      acpCommands[name] = parseAgentCommandLine(line)
    } catch (error) {
      throw new ConfigError(`AGENT_${name.toUpperCase()}_ACP_CMD: ${(error as Error).message}`)
    }
  }
  return new AgentRegistry(agents, options.searchPath, { modes: options.agentModes ?? {}, acpCommands })
}
