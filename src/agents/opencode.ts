import type { CliAgentDefinition } from './cli-agent'
import { dirFrom } from './credentials'

/**
 * opencode's non-interactive `run`. Its default permission is `"*": "allow"`, bash included, so
 * print mode runs with a config (OPENCODE_CONFIG_CONTENT, merged over the user's own) that
 * denies bash and web access and allows edits. Its built-in `opencode` provider serves free
 * hosted models with no key at all: disabled unless OPENCODE_API_KEY is set, so code goes only
 * where the user configured a provider.
 *
 * `opencode run` joins its message words with spaces and wraps every word that contains a space
 * in literal double quotes, so the instruction is passed as its space-separated words (after
 * `--`, so a word like `-v` stays text): they join back to exactly the instruction.
 */
const PRINT_MODE_PERMISSIONS = { bash: 'deny', webfetch: 'deny', websearch: 'deny', external_directory: 'deny', edit: 'allow' }
/**
 * `opencode acp` with its default permissions ran bash with no session/request_permission at all:
 * over ACP the same tools are set to "ask" (opencode then sends a permission request for each
 * call), edits included, so APPROVAL_POLICY decides them as it does for every ACP agent.
 */
const ACP_MODE_PERMISSIONS = { bash: 'ask', webfetch: 'ask', websearch: 'ask', external_directory: 'ask', edit: 'ask' }

function userConfig(text: string | undefined): Record<string, unknown> {
  if (!text) return {}
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

export function printModeConfig(env: Readonly<Record<string, string>>): string {
  return configFor(env, PRINT_MODE_PERMISSIONS)
}

export function acpModeConfig(env: Readonly<Record<string, string>>): string {
  return configFor(env, ACP_MODE_PERMISSIONS)
}

/** The user's own config (OPENCODE_CONFIG_CONTENT) with the mode's permissions over it. */
function configFor(env: Readonly<Record<string, string>>, permissions: Readonly<Record<string, string>>): string {
  const config = userConfig(env.OPENCODE_CONFIG_CONTENT)
  const permission = typeof config.permission === 'object' && config.permission !== null ? config.permission : typeof config.permission === 'string' ? { '*': config.permission } : {}
  const disabled = Array.isArray(config.disabled_providers) ? config.disabled_providers.filter((p): p is string => typeof p === 'string') : []
  const hostedAllowed = (env.OPENCODE_API_KEY ?? '') !== ''
  return JSON.stringify({
    ...config,
    permission: { ...permission, ...permissions },
    disabled_providers: hostedAllowed ? disabled : [...new Set([...disabled, 'opencode'])],
    autoupdate: false,
    share: 'disabled',
  })
}

export const opencode: CliAgentDefinition = {
  name: 'opencode',
  description: 'opencode (opencode run), file edits allowed, shell and web denied',
  program: 'opencode',
  envVars: [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_BASE_URL',
    'OPENAI_API_KEY',
    'OPENAI_BASE_URL',
    'GEMINI_API_KEY',
    'GOOGLE_GENERATIVE_AI_API_KEY',
    'OPENROUTER_API_KEY',
    'OPENCODE_API_KEY',
    'OPENCODE_CONFIG',
    'OPENCODE_CONFIG_CONTENT',
    'OPENCODE_CONFIG_DIR',
    'XDG_DATA_HOME',
  ],
  args: (instruction) => ['run', '--', ...instruction.split(' ')],
  credentials: {
    env: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'OPENROUTER_API_KEY', 'OPENCODE_API_KEY', 'OPENCODE_CONFIG', 'OPENCODE_CONFIG_CONTENT'],
    files: (env) => [`${dirFrom(env, 'XDG_DATA_HOME', '.local', 'share')}/opencode/auth.json`],
    hint: 'or log in once with `opencode auth login` as the user running the server',
  },
  prepare: (args, env, mode) => ({ args: [...args], env: { ...env, OPENCODE_CONFIG_CONTENT: mode === 'acp' ? acpModeConfig(env) : printModeConfig(env) } }),
  acp: { program: 'opencode', args: ['acp'], auto: true, description: 'opencode over ACP (opencode acp), shell commands and web access ask for approval; edits by APPROVAL_POLICY' },
}
