import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'
import { dirFrom } from './credentials'
import type { AgentPrompt } from './types'

/**
 * Cline CLI 3.x. `cline "task"` runs headless with every tool auto-approved by default (shell
 * included), so `--auto-approve false`: on its terminal (the task's PTY) it then asks
 * `Approve "<tool>" <input> [y/N]` before each tool, edits included, and the task surfaces that
 * question (phase `awaiting_input`) for the user to answer y or n. Without a provider configured
 * it waits forever for a login, hence the credential check. By default it also starts a "hub"
 * daemon in a session of its own that outlives the task (outside its process group, so cancel
 * could not stop it): CLINE_SESSION_BACKEND_MODE=local keeps everything in the one process.
 */
const APPROVAL = /Approve "([^"]+)" ?(.*?) ?\[y\/N\] ?/g
/**
 * What cline prints after its question without it having been answered: the AI SDK's warnings
 * and their stack lines land right after `[y/N] `. Anything else (the echoed answer, the tool's
 * output) means the question is behind it.
 */
const NOISE = /^\s*$|^\s*at \S|AI SDK Warning|^\s*(Deprecation)?Warning\b/

function pendingApproval(outputTail: string): AgentPrompt | null {
  const last = [...outputTail.matchAll(APPROVAL)].at(-1)
  if (!last) return null
  const after = outputTail.slice(last.index + last[0].length)
  if (!after.split('\n').every((line) => NOISE.test(line))) return null
  return { kind: 'approval', text: `cline wants to use ${last[1]}: ${last[2]}`.trim(), options: ['y', 'n'] }
}

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
  prepare: (args, env) => ({ args: [...args], env: { ...env, CLINE_SESSION_BACKEND_MODE: 'local', CLINE_NO_AUTO_UPDATE: '1' } }),
  // Measured with cline 3.0.65: it prints nothing before the model's first answer (about 18 s
  // after start on a loaded 2-core machine), and with a provider whose endpoint does not answer it
  // prints nothing at all and never exits, its own `-t/--timeout` included (tried with -t 15).
  firstOutputTimeout: {
    ms: 120_000,
    hint: 'cline waits like this when the endpoint of its provider does not answer; check the provider `cline auth` configured (its base URL and key) as the user running the server.',
  },
  detectPrompt: pendingApproval,
  answer: (_prompt, reply) => `${reply.trim().toLowerCase().startsWith('y') ? 'y' : 'n'}\r`,
  acp: { program: 'cline', args: ['--acp'] },
}
