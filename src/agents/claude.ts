import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'

/**
 * Claude Code in print mode: one instruction, then it exits. `acceptEdits` lets it edit files in
 * its cwd (the task's throwaway workspace) without asking; tools that would need an approval
 * (shell commands, network) are refused in print mode rather than waited on, so a run never hangs
 * on a prompt. `--dangerously-skip-permissions` would let it run any command on this machine and
 * refuses to start as root; opt into it with AGENT_CLAUDE_CMD.
 */
export const claude: CliAgentDefinition = {
  name: 'claude',
  description: 'Claude Code (claude -p), file edits accepted automatically, other tools refused',
  program: 'claude',
  envVars: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL', 'CLAUDE_CONFIG_DIR'],
  args: (instruction) => ['-p', '--permission-mode', 'acceptEdits', ...positionalInstruction(instruction)],
}
