import { ConfigError } from '../config'
import { launchFromCommandLine, parseAgentCommandLine } from './command-line'
import type { Agent } from './types'

/**
 * The generic agent: whatever command line AGENT_CUSTOM_CMD holds, with the instruction appended
 * or put where `{instruction}` is. Listed as unavailable until that variable is set.
 */
export function createCustomAgent(commandLine: string | undefined): Agent {
  if (commandLine === undefined) {
    return {
      name: 'custom',
      description: 'Any agent CLI: set AGENT_CUSTOM_CMD (the instruction is appended or replaces {instruction})',
      program: null,
      envVars: [],
      launch: () => {
        throw new Error('the custom agent has no command line; set AGENT_CUSTOM_CMD')
      },
    }
  }
  let program: string
  try {
    program = parseAgentCommandLine(commandLine)[0]!
  } catch (error) {
    throw new ConfigError(`AGENT_CUSTOM_CMD: ${(error as Error).message}`)
  }
  return {
    name: 'custom',
    description: `Custom agent from AGENT_CUSTOM_CMD (${program})`,
    program,
    envVars: [],
    launch: ({ instruction }) => launchFromCommandLine(commandLine, instruction),
  }
}
