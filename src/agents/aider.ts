import type { CliAgentDefinition } from './cli-agent'

/**
 * Aider scripted with one message: `--yes-always` answers its confirmations, `--no-auto-commits`
 * leaves the edits uncommitted (the task layer diffs the workspace against its baseline), and
 * `--no-gitignore` stops it adding `.aider*` to .gitignore, which would show up as a change.
 * `--message=` keeps an instruction that starts with `-` from being read as an option.
 */
export const aider: CliAgentDefinition = {
  name: 'aider',
  description: 'Aider (aider --message), confirmations answered yes, no commits',
  program: 'aider',
  envVars: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY', 'AIDER_MODEL'],
  args: (instruction) => ['--yes-always', '--no-auto-commits', '--no-check-update', '--no-gitignore', `--message=${instruction}`],
}
