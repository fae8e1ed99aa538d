import { ConfigError } from '../config'
import { launchFromCommandLine, parseAgentCommandLine } from './command-line'
import type { Agent, AgentRequest } from './types'

/** One CLI agent: its name, what it is, its program and the argv that runs one instruction unattended. */
export type CliAgentDefinition = {
  name: string
  description: string
  program: string
  /** Server environment variables passed through to this agent (see Agent.envVars). */
  envVars: readonly string[]
  /** Arguments after the program; the instruction must be one of them (never parsed by a shell). */
  args(instruction: string): string[]
}

/**
 * Builds an Agent from a definition and the optional AGENT_<NAME>_CMD override. A broken override
 * is a start-up error (ConfigError naming the variable), not a task that fails later.
 */
export function createCliAgent(definition: CliAgentDefinition, override?: string): Agent {
  if (override === undefined) {
    return {
      name: definition.name,
      description: definition.description,
      program: definition.program,
      envVars: definition.envVars,
      launch: ({ instruction }: AgentRequest) => ({ file: definition.program, args: definition.args(instruction) }),
    }
  }
  let program: string
  try {
    program = parseAgentCommandLine(override)[0]!
  } catch (error) {
    throw new ConfigError(`AGENT_${definition.name.toUpperCase()}_CMD: ${(error as Error).message}`)
  }
  return {
    name: definition.name,
    description: `${definition.description} (command line from AGENT_${definition.name.toUpperCase()}_CMD)`,
    program,
    envVars: definition.envVars,
    launch: ({ instruction }: AgentRequest) => launchFromCommandLine(override, instruction),
  }
}
