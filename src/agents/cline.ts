import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'

/**
 * Cline CLI 2.x. On a terminal `cline "task"` would open its interactive UI; `-y` (yolo) forces
 * headless mode and approves every action, which is the documented unattended form.
 */
export const cline: CliAgentDefinition = {
  name: 'cline',
  description: 'Cline CLI (cline -y), headless, every action approved',
  program: 'cline',
  envVars: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY', 'CLINE_DIR'],
  args: (instruction) => ['-y', ...positionalInstruction(instruction)],
}
