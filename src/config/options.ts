import * as p from './parsers'
import type { ParseContext, Parser } from './parsers'

/**
 * One setting: its environment variable, its `--flag`, its typed default, the parser that checks
 * its range, and the help line. Start-up parsing, `--help` and the README's configuration table
 * (test/config/readme.test.ts keeps them equal; `bun run scripts/readme-options.ts` rewrites it)
 * all come from OPTIONS below. Adding a setting is one `option({...})` entry there.
 */
export type Option<K extends string = string, T = unknown> = {
  /** The Config field it fills. */
  key: K
  env: string
  /** Without the leading dashes. */
  flag: string
  /** The value's placeholder in --help; absent for a boolean switch. */
  arg?: string
  /** The value when neither the variable nor the flag is given (a function when it depends on the start directory). */
  default: T | ((context: ParseContext) => T)
  /** How --help and the README show the default when the value itself reads badly. */
  shown?: string
  parse: Parser<T>
  help: string
}

function option<const K extends string, T>(o: Option<K, T>): Option<K, T> {
  return o
}

const SECOND = 1000
const secondsAsMs = (min: number, max: number): Parser<number> => {
  const seconds = p.integer(min, max)
  return (raw, context) => seconds(raw, context) * SECOND
}

export const DEFAULT_CMD_ALLOWLIST: readonly string[] = ['npm test', 'go test', 'npm run build', 'pytest']
export const DEFAULT_CORS_ORIGINS: readonly string[] = ['http://localhost:19006']

export const OPTIONS = [
  option({ key: 'port', env: 'PORT', flag: 'port', arg: 'N', default: 8080, parse: p.integer(0, 65535), help: 'listen port (0 = pick a free one and print it)' }),
  option({ key: 'host', env: 'HOST', flag: 'host', arg: 'ADDR', default: '127.0.0.1', parse: p.nonEmpty, help: 'bind address; 0.0.0.0 lets a phone on the LAN in' }),
  option({ key: 'publicUrl', env: 'PUBLIC_URL', flag: 'public-url', arg: 'URL', default: null, shown: 'from the request', parse: p.publicUrl, help: 'base URL clients must use (tunnel, proxy); `https` gives `wss`' }),
  option({ key: 'jwtSecret', env: 'JWT_SECRET', flag: 'jwt-secret', arg: 'S', default: '', shown: 'made on first start and kept in STATE_DIR/secrets.json', parse: p.jwtSecret, help: 'HS256 secret, at least 32 bytes (`openssl rand -hex 32`)' }),
  option({ key: 'pairingToken', env: 'PAIRING_TOKEN', flag: 'pairing-token', arg: 'T', default: '', shown: 'made on first start and kept in STATE_DIR/secrets.json', parse: p.pairingToken, help: 'bearer credential for `POST /api/session`, printed at start' }),
  option({ key: 'devMode', env: 'DEV_MODE', flag: 'dev-mode', default: false, parse: p.boolean, help: 'accepts `Bearer DEV` and weak secrets; loud warning (never on a shared network)' }),
  option({ key: 'sessionTtlSeconds', env: 'SESSION_TTL_SECONDS', flag: 'session-ttl-seconds', arg: 'N', default: 86400, parse: p.integer(10, 31_536_000), help: "session and token lifetime; activity extends the session up to the token's `exp`" }),
  option({ key: 'repoAllowlist', env: 'REPO_ALLOWLIST', flag: 'repo-allowlist', arg: 'DIRS', default: (c) => p.directoryList(c.cwd, c), shown: 'the start directory', parse: p.directoryList, help: "comma-separated absolute directories; a session's repo must be one or inside one" }),
  option({ key: 'cmdAllowlist', env: 'CMD_ALLOWLIST', flag: 'cmd-allowlist', arg: 'CMDS', default: DEFAULT_CMD_ALLOWLIST, parse: p.list, help: 'comma-separated commands `/api/cmd` may run (see Commands)' }),
  option({ key: 'corsOrigins', env: 'CORS_ORIGINS', flag: 'cors-origins', arg: 'ORIGINS', default: DEFAULT_CORS_ORIGINS, parse: p.origins, help: 'origins for CORS and the WebSocket Origin check' }),
  option({ key: 'stateDir', env: 'STATE_DIR', flag: 'state-dir', arg: 'DIR', default: (c) => p.absoluteDir('~/.cockpit-coder', c), shown: '~/.cockpit-coder', parse: p.absoluteDir, help: '`state.db`, `secrets.json` and task workspaces (see State and restarts); made 0700' }),
  option({ key: 'defaultAgent', env: 'DEFAULT_AGENT', flag: 'default-agent', arg: 'NAME', default: 'mock', parse: p.agentName, help: 'agent used when a task names none' }),
  option({ key: 'allowedHosts', env: 'ALLOWED_HOSTS', flag: 'allowed-hosts', arg: 'HOSTS', default: [], shown: '(none)', parse: p.hostNames, help: 'extra `Host` names accepted (DNS-rebinding check)' }),
  option({ key: 'bodyLimitBytes', env: 'BODY_LIMIT_BYTES', flag: 'body-limit-bytes', arg: 'N', default: 1_048_576, parse: p.integer(1024, 1024 ** 3), help: 'larger request bodies get 413' }),
  option({ key: 'logLevel', env: 'LOG_LEVEL', flag: 'log-level', arg: 'LEVEL', default: 'info' as const, parse: p.oneOf(['debug', 'info', 'warn', 'error', 'silent']), help: 'debug, info, warn, error or silent; logs go to stderr, tokens stripped from URLs' }),
  option({ key: 'logFormat', env: 'LOG_FORMAT', flag: 'log-format', arg: 'FMT', default: 'text' as const, parse: p.oneOf(['text', 'json']), help: 'text, or json for machines' }),
  option({ key: 'taskTimeoutMs', env: 'TASK_TIMEOUT_SECONDS', flag: 'task-timeout-seconds', arg: 'N', default: 1800 * SECOND, shown: '1800', parse: secondsAsMs(1, 86_400), help: 'an agent running longer is stopped' }),
  option({ key: 'cmdTimeoutMaxMs', env: 'CMD_TIMEOUT_MAX_SECONDS', flag: 'cmd-timeout-max-seconds', arg: 'N', default: 600 * SECOND, shown: '600', parse: secondsAsMs(1, 86_400), help: "cap (and default) of a command's `timeoutMs`" }),
  option({ key: 'cmdOutputLimitBytes', env: 'CMD_OUTPUT_LIMIT_BYTES', flag: 'cmd-output-limit-bytes', arg: 'N', default: 1_048_576, parse: p.integer(1024, 256 * 1024 ** 2), help: 'output kept per command (the tail wins)' }),
  option({ key: 'cmdConcurrencyPerSession', env: 'CMD_CONCURRENCY', flag: 'cmd-concurrency', arg: 'N', default: 4, parse: p.integer(1, 64), help: 'commands running at once per session (429 past it)' }),
  option({ key: 'ptyScrollbackBytes', env: 'PTY_SCROLLBACK_BYTES', flag: 'pty-scrollback-bytes', arg: 'N', default: 262_144, parse: p.integer(1024, 64 * 1024 ** 2), help: 'terminal output replayed on reconnect' }),
  option({ key: 'ptyIdleSeconds', env: 'PTY_IDLE_SECONDS', flag: 'pty-idle-seconds', arg: 'N', default: 3600, parse: p.integer(1, 31_536_000), help: 'a terminal nobody watches is closed after this' }),
  option({ key: 'ptyMaxPerSession', env: 'PTY_MAX_PER_SESSION', flag: 'pty-max-per-session', arg: 'N', default: 8, parse: p.integer(1, 1024), help: 'terminals per session' }),
  option({ key: 'ptyMaxTotal', env: 'PTY_MAX_TOTAL', flag: 'pty-max-total', arg: 'N', default: 256, parse: p.integer(1, 65_536), help: 'terminals in the whole server' }),
  option({ key: 'approvalPolicy', env: 'APPROVAL_POLICY', flag: 'approval-policy', arg: 'P', default: 'edits' as const, parse: p.oneOf(['edits', 'ask', 'allowlist', 'deny']), help: 'what the server decides itself when an ACP agent asks permission: `edits`, `ask`, `allowlist`, `deny`' }),
  option({ key: 'approvalTimeoutMs', env: 'APPROVAL_TIMEOUT_SECONDS', flag: 'approval-timeout-seconds', arg: 'N', default: 900 * SECOND, shown: '900', parse: secondsAsMs(1, 7 * 86_400), help: 'an unanswered approval is answered no (`expired`, by `timeout`)' }),
  option({ key: 'agentIdleMs', env: 'AGENT_IDLE_SECONDS', flag: 'agent-idle-seconds', arg: 'N', default: 1800 * SECOND, shown: '1800', parse: secondsAsMs(1, 7 * 86_400), help: 'an ACP agent waits this long between turns, then is stopped (a follow-up starts it again)' }),
  option({ key: 'acpRequestTimeoutMs', env: 'ACP_REQUEST_TIMEOUT_SECONDS', flag: 'acp-request-timeout-seconds', arg: 'N', default: 120 * SECOND, shown: '120', parse: secondsAsMs(1, 86_400), help: 'an ACP agent that does not answer `initialize`/`session/new` in time fails the task' }),
  option({ key: 'workspaceMaxBytes', env: 'WORKSPACE_MAX_BYTES', flag: 'workspace-max-bytes', arg: 'N', default: 2 * 1024 ** 3, shown: '2147483648 (2 GiB)', parse: p.integer(1024 ** 2, Number.MAX_SAFE_INTEGER), help: 'disk all task workspaces may use together, those kept from before a restart included' }),
  option({ key: 'workspaceRetentionDays', env: 'WORKSPACE_RETENTION_DAYS', flag: 'workspace-retention-days', arg: 'N', default: 7, parse: p.integer(0, 36_500), help: "a finished task's workspace is removed this long after the task ended (its record and patches stay)" }),
  option({ key: 'rotateSecrets', env: 'ROTATE_SECRETS', flag: 'rotate-secrets', default: false, parse: p.boolean, help: 'make new kept secrets at start-up; ends every session' }),
] as const

type AnyOption = (typeof OPTIONS)[number]

/** The value of every option, by its key. */
export type Settings = { [O in AnyOption as O['key']]: O extends Option<string, infer T> ? T : never }

export function shownDefault(o: Option): string {
  if (o.shown !== undefined) return o.shown
  if (typeof o.default === 'boolean') return o.default ? 'on' : 'off'
  if (Array.isArray(o.default)) return o.default.length === 0 ? '(none)' : o.default.join(',')
  return String(o.default)
}

/** The README's configuration table, exactly. */
export function optionsMarkdown(): string {
  const rows = (OPTIONS as readonly Option[]).map((o) => {
    const shown = shownDefault(o)
    const cell = /^[\w./~ ()-]*$/.test(shown) ? shown : `\`${shown}\``
    return `| ${o.env} | --${o.flag} | ${cell} | ${o.help} |`
  })
  return ['| variable | flag | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n')
}
