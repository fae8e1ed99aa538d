import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'

/**
 * opencode's non-interactive `run` command, with the permissions of the user's opencode config.
 * Recent versions take `--auto` to approve every permission not explicitly denied; add it with
 * AGENT_OPENCODE_CMD="opencode run --auto" if your config asks for approvals.
 */
export const opencode: CliAgentDefinition = {
  name: 'opencode',
  description: 'opencode (opencode run), permissions from your opencode config',
  program: 'opencode',
  envVars: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY', 'OPENCODE_CONFIG'],
  args: (instruction) => ['run', ...positionalInstruction(instruction)],
}
