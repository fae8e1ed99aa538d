import { readFileSync } from 'node:fs'
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

/** The providers cline's ACP mode restores a login of on its own (its authMethods). */
const ACP_LOGIN_PROVIDERS = new Set(['cline', 'cline-pass', 'openai-codex'])

type ProviderSettings = { lastUsedProvider?: unknown; providers?: Record<string, { settings?: { apiKey?: unknown; model?: unknown } }> }

/**
 * `cline --acp` 3.0.65 does not read the provider `cline auth` configured, as `cline "task"`
 * does: it restores only its own logins (cline, cline-pass, openai-codex), and otherwise refuses
 * session/new ("Authentication required") unless CLINE_API_KEY is set; CLINE_PROVIDER then picks
 * the provider, whose base URL it does take from providers.json. So the configured provider and
 * its key are handed over in those variables (unless the operator set them). A small JSON file
 * read once per agent start.
 */
function acpProviderEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  if ((env.CLINE_API_KEY ?? '') !== '' || (env.CLINE_PROVIDER ?? '') !== '') return {}
  let saved: ProviderSettings
  try {
    saved = JSON.parse(readFileSync(`${dirFrom(env, 'CLINE_DATA_DIR', '.cline', 'data')}/settings/providers.json`, 'utf8')) as ProviderSettings
  } catch {
    return {}
  }
  const provider = typeof saved.lastUsedProvider === 'string' ? saved.lastUsedProvider : null
  if (provider === null || ACP_LOGIN_PROVIDERS.has(provider)) return {}
  const settings = saved.providers?.[provider]?.settings
  const key = typeof settings?.apiKey === 'string' ? settings.apiKey : ''
  if (key === '') return {}
  return { CLINE_PROVIDER: provider, CLINE_API_KEY: key, ...(typeof settings?.model === 'string' ? { CLINE_MODEL: settings.model } : {}) }
}

export const cline: CliAgentDefinition = {
  name: 'cline',
  description: 'Cline CLI (cline --auto-approve false), every tool asks for approval',
  program: 'cline',
  envVars: ['CLINE_API_KEY', 'CLINE_PROVIDER', 'CLINE_MODEL', 'CLINE_DATA_DIR', 'CLINE_DIR', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY'],
  args: (instruction) => ['--auto-approve', 'false', ...positionalInstruction(instruction)],
  credentials: {
    env: ['CLINE_API_KEY'],
    files: (env) => [`${dirFrom(env, 'CLINE_DATA_DIR', '.cline', 'data')}/settings/providers.json`],
    hint: 'or configure a provider once with `cline auth` (e.g. `cline auth anthropic -k <key>`) as the user running the server',
  },
  prepare: (args, env, mode) => ({
    args: [...args],
    env: { ...env, ...(mode === 'acp' ? acpProviderEnv(env) : {}), CLINE_SESSION_BACKEND_MODE: 'local', CLINE_NO_AUTO_UPDATE: '1' },
  }),
  // Measured with cline 3.0.65: it prints nothing before the model's first answer (about 18 s
  // after start on a loaded 2-core machine), and with a provider whose endpoint does not answer it
  // prints nothing at all and never exits, its own `-t/--timeout` included (tried with -t 15).
  firstOutputTimeout: {
    ms: 120_000,
    hint: 'cline waits like this when the endpoint of its provider does not answer; check the provider `cline auth` configured (its base URL and key) as the user running the server.',
  },
  detectPrompt: pendingApproval,
  answer: (_prompt, reply) => `${reply.trim().toLowerCase().startsWith('y') ? 'y' : 'n'}\r`,
  // Proven with 3.0.65 against the scripted OpenAI-compatible API (test/agents-real/cline-acp.test.ts):
  // its tool calls (run_commands included) come as session/request_permission (its auto_approve
  // option is off over ACP) and run only when allowed. CLINE_SESSION_BACKEND_MODE=local and the
  // provider variables above are what it needs there.
  acp: {
    program: 'cline',
    args: ['--acp'],
    auto: true,
    description: 'Cline CLI over ACP (cline --acp), every tool call asks for approval, edits included',
  },
}
