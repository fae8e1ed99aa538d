import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'
import { dirFrom } from './credentials'

/**
 * Claude Code in print mode: one instruction, then it exits. `acceptEdits` alone is not enough:
 * it also auto-approves filesystem shell commands (`touch`, `mkdir`, `mv`, … ran unattended
 * against the scripted API). `--restricted` removes Bash, WebFetch and the other code-running
 * tools and confines the file tools to the cwd (the task's throwaway workspace);
 * `--permission-prompts none` denies whatever would still prompt, so a run never waits on a
 * question nobody sees. `--dangerously-skip-permissions` refuses to start as root unless
 * IS_SANDBOX=1, which is passed through; opt into it with AGENT_CLAUDE_CMD.
 */
export const claude: CliAgentDefinition = {
  name: 'claude',
  description: 'Claude Code (claude -p --restricted), file edits in the workspace accepted, shell and web refused',
  program: 'claude',
  envVars: [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_BASE_URL',
    'ANTHROPIC_MODEL',
    'ANTHROPIC_SMALL_FAST_MODEL',
    'CLAUDE_CODE_OAUTH_TOKEN',
    'CLAUDE_CODE_USE_BEDROCK',
    'CLAUDE_CODE_USE_VERTEX',
    'CLAUDE_CONFIG_DIR',
    'IS_SANDBOX',
  ],
  args: (instruction) => ['-p', '--restricted', '--permission-mode', 'acceptEdits', '--permission-prompts', 'none', ...positionalInstruction(instruction)],
  credentials: {
    env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN', 'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX'],
    files: (env) => [`${dirFrom(env, 'CLAUDE_CONFIG_DIR', '.claude')}/.credentials.json`],
    hint: 'or log in once with `claude` as the user running the server (ANTHROPIC_BASE_URL points it at another endpoint)',
  },
  acp: { program: 'claude-agent-acp', args: [], auto: true, description: 'Claude Code over ACP (claude-agent-acp), shell commands ask for approval; edits by APPROVAL_POLICY' },
  // Claude Code refuses its permission bypass when run as root unless IS_SANDBOX=1 says the
  // machine is a throwaway sandbox; the variable is passed through when the server has it.
  failureHint: (environment) =>
    process.getuid?.() === 0 && !environment.IS_SANDBOX
      ? 'Claude Code runs as root here: if this machine is a sandbox, start the server with IS_SANDBOX=1 (it is passed to the agent); otherwise run the server as a normal user.'
      : null,
}
