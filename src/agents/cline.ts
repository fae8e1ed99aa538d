import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'
import { dirFrom } from './credentials'
import type { AgentPrompt } from './types'

/**
 * Cline CLI 3.x. `cline "task"` runs headless with every tool auto-approved by default (shell
 * included), so `--auto-approve false`: on its terminal (the task's PTY) it then asks
 * `Approve "<tool>" <input> [y/N]` before each tool, edits included, and the task surfaces that
 * question (phase `awaiting_input`) for the user to answer y or n. Without a provider configured
 * it waits forever for a login, hence the credential check.
 */
const APPROVAL = /Approve "([^"]+)" ?(.*?) ?\[y\/N\] ?$/

export const cline: CliAgentDefinition = {
  name: 'cline',
  description: 'Cline CLI (cline --auto-approve false), every tool asks for approval',
  program: 'cline',
  envVars: ['CLINE_API_KEY', 'CLINE_DATA_DIR', 'CLINE_DIR', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY'],
  args: (instruction) => ['--auto-approve', 'false', ...positionalInstruction(instruction)],
  credentials: {
    env: ['CLINE_API_KEY'],
    files: (env) => [`${dirFrom(env, 'CLINE_DATA_DIR', '.cline', 'data')}/settings/providers.json`],
    hint: 'or configure a provider once with `cline auth` (e.g. `cline auth anthropic -k <key>`) as the user running the server',
  },
  detectPrompt(outputTail: string): AgentPrompt | null {
    const lastLine = outputTail.trimEnd().split('\n').at(-1) ?? ''
    const match = APPROVAL.exec(lastLine)
    return match ? { kind: 'approval', text: `cline wants to use ${match[1]}: ${match[2]}`.trim(), options: ['y', 'n'] } : null
  },
  answer: (_prompt, reply) => `${reply.trim().toLowerCase().startsWith('y') ? 'y' : 'n'}\r`,
  acp: { program: 'cline', args: ['--acp'] },
}
