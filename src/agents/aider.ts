import type { CliAgentDefinition } from './cli-agent'

/**
 * Aider scripted with one message: `--yes-always` answers its confirmations, `--no-auto-commits`
 * leaves the edits uncommitted (the task layer diffs the workspace against its baseline), and
 * `--no-gitignore` stops it adding `.aider*` to .gitignore, which would show up as a change.
 * `--message=` keeps an instruction that starts with `-` from being read as an option.
 * `--no-suggest-shell-commands` keeps `--yes-always` from running the shell commands it proposes.
 * Not proven here: aider is a Python package and PyPI is not reachable from this machine.
 */
export const aider: CliAgentDefinition = {
  name: 'aider',
  description: 'Aider (aider --message), confirmations answered yes, no shell commands, no commits',
  program: 'aider',
  envVars: ['OPENAI_API_KEY', 'OPENAI_API_BASE', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY', 'AIDER_MODEL'],
  args: (instruction) => ['--yes-always', '--no-auto-commits', '--no-check-update', '--no-gitignore', '--no-suggest-shell-commands', `--message=${instruction}`],
  credentials: {
    env: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY'],
    hint: 'for the model aider uses (OPENAI_API_BASE points it at another endpoint)',
  },
}
