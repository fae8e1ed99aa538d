import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'

/**
 * OpenAI Codex non-interactive mode. `codex exec` never asks for approvals and is read-only by
 * default; `--sandbox workspace-write` lets it edit its cwd (the task workspace, a git repo) and
 * run commands inside its sandbox without network.
 */
export const codex: CliAgentDefinition = {
  name: 'codex',
  description: 'OpenAI Codex (codex exec), sandboxed to writing the task workspace',
  program: 'codex',
  envVars: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODEX_HOME'],
  args: (instruction) => ['exec', '--sandbox', 'workspace-write', ...positionalInstruction(instruction)],
}
