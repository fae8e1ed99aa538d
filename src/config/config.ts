import { randomBytes } from 'node:crypto'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export type Config = Readonly<{
  port: number
  host: string
  publicUrl: URL | null
  jwtSecret: string
  jwtSecretGenerated: boolean
  pairingToken: string
  pairingTokenGenerated: boolean
  devMode: boolean
  sessionTtlSeconds: number
  /** Real paths (symlinks resolved) of the directories a session's repo may be in. */
  repoAllowlist: readonly string[]
  cmdAllowlist: readonly string[]
  corsOrigins: readonly string[]
  stateDir: string
  defaultAgent: string
  allowedHosts: readonly string[]
  bodyLimitBytes: number
  logLevel: LogLevel
  logFormat: 'text' | 'json'
  taskTimeoutMs: number
  cmdTimeoutMaxMs: number
  cmdOutputLimitBytes: number
  cmdConcurrencyPerSession: number
  ptyScrollbackBytes: number
  ptyIdleSeconds: number
  ptyMaxPerSession: number
  ptyMaxTotal: number
  workspaceMaxBytes: number
  /** AGENT_<NAME>_CMD overrides: agent name (lower case) → command line. */
  agentCommands: Readonly<Record<string, string>>
}>

export class ConfigError extends Error {}

type Option = {
  env: string
  flag: string
  arg: string
  help: string
  default: string
  boolean?: boolean
}

/** Every setting is an environment variable and a `--flag`; the flag wins. */
export const OPTIONS: readonly Option[] = [
  { env: 'PORT', flag: '--port', arg: 'N', default: '8080', help: 'listen port (0 = pick a free one and print it)' },
  { env: 'HOST', flag: '--host', arg: 'ADDR', default: '127.0.0.1', help: 'bind address; 0.0.0.0 lets a phone on the LAN in' },
  { env: 'PUBLIC_URL', flag: '--public-url', arg: 'URL', default: 'from the request', help: 'base URL clients must use (tunnel, reverse proxy)' },
  { env: 'JWT_SECRET', flag: '--jwt-secret', arg: 'S', default: 'random per process', help: 'HS256 secret, at least 32 bytes' },
  { env: 'PAIRING_TOKEN', flag: '--pairing-token', arg: 'T', default: 'random per process', help: 'bearer credential for POST /api/session' },
  { env: 'DEV_MODE', flag: '--dev-mode', arg: '', default: 'off', help: 'accept "Bearer DEV" and weak secrets (never on a shared network)', boolean: true },
  { env: 'SESSION_TTL_SECONDS', flag: '--session-ttl-seconds', arg: 'N', default: '86400', help: 'session and token lifetime' },
  { env: 'REPO_ALLOWLIST', flag: '--repo-allowlist', arg: 'DIRS', default: 'the current directory', help: 'comma-separated absolute directories sessions may use' },
  { env: 'CMD_ALLOWLIST', flag: '--cmd-allowlist', arg: 'CMDS', default: 'npm test,go test,npm run build,pytest', help: 'comma-separated commands /api/cmd may run' },
  { env: 'CORS_ORIGINS', flag: '--cors-origins', arg: 'ORIGINS', default: 'http://localhost:19006', help: 'origins allowed for CORS and WebSocket' },
  { env: 'STATE_DIR', flag: '--state-dir', arg: 'DIR', default: '~/.cockpit-coder', help: 'task workspaces and state' },
  { env: 'DEFAULT_AGENT', flag: '--default-agent', arg: 'NAME', default: 'mock', help: 'agent used when a task names none' },
  { env: 'ALLOWED_HOSTS', flag: '--allowed-hosts', arg: 'HOSTS', default: '(none)', help: 'extra Host header names to accept' },
  { env: 'BODY_LIMIT_BYTES', flag: '--body-limit-bytes', arg: 'N', default: '1048576', help: 'largest request body accepted (413 past it)' },
  { env: 'LOG_LEVEL', flag: '--log-level', arg: 'LEVEL', default: 'info', help: 'debug, info, warn, error or silent' },
  { env: 'LOG_FORMAT', flag: '--log-format', arg: 'FMT', default: 'text', help: 'text or json request logs' },
  { env: 'TASK_TIMEOUT_SECONDS', flag: '--task-timeout-seconds', arg: 'N', default: '1800', help: 'an agent running longer is stopped' },
  { env: 'CMD_TIMEOUT_MAX_SECONDS', flag: '--cmd-timeout-max-seconds', arg: 'N', default: '600', help: 'cap (and default) for a command timeout' },
  { env: 'CMD_OUTPUT_LIMIT_BYTES', flag: '--cmd-output-limit-bytes', arg: 'N', default: '1048576', help: 'output kept per command (the tail wins)' },
  { env: 'CMD_CONCURRENCY', flag: '--cmd-concurrency', arg: 'N', default: '4', help: 'commands running at once per session' },
  { env: 'PTY_SCROLLBACK_BYTES', flag: '--pty-scrollback-bytes', arg: 'N', default: '262144', help: 'terminal output replayed on reconnect' },
  { env: 'PTY_IDLE_SECONDS', flag: '--pty-idle-seconds', arg: 'N', default: '3600', help: 'a terminal nobody watches is closed after this' },
  { env: 'PTY_MAX_PER_SESSION', flag: '--pty-max-per-session', arg: 'N', default: '8', help: 'terminals per session' },
  { env: 'PTY_MAX_TOTAL', flag: '--pty-max-total', arg: 'N', default: '256', help: 'terminals in the whole server' },
  { env: 'WORKSPACE_MAX_BYTES', flag: '--workspace-max-bytes', arg: 'N', default: '2147483648', help: 'disk all task workspaces may use together' },
]

export const DEFAULT_CMD_ALLOWLIST = ['npm test', 'go test', 'npm run build', 'pytest']

export function parseArgs(argv: readonly string[]): { values: Record<string, string>; help: boolean; version: boolean } {
  const values: Record<string, string> = {}
  let help = false
  let version = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') {
      help = true
      continue
    }
    if (arg === '--version' || arg === '-v') {
      version = true
      continue
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const option = OPTIONS.find((o) => o.flag === name)
    if (!option) throw new ConfigError(`unknown option ${name}; see --help`)
    if (option.boolean) {
      values[option.env] = inline ?? 'true'
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new ConfigError(`${name} needs a value (${option.arg}); see --help`)
    values[option.env] = value
  }
  return { values, help, version }
}

export function usage(version: string): string {
  const width = Math.max(...OPTIONS.map((o) => `${o.flag} ${o.arg}`.length))
  const lines = OPTIONS.map((o) => `  ${`${o.flag} ${o.arg}`.padEnd(width)}  ${o.env.padEnd(24)} ${o.help} [${o.default}]`)
  return [
    `cockpit-coder ${version}: drive coding agents on this machine from your phone`,
    '',
    'Usage: cockpit-coder [options]',
    '',
    'Every option is also an environment variable (second column); a flag wins over the variable.',
    '',
    ...lines,
    `  ${'--help'.padEnd(width)}  print this help`,
    `  ${'--version'.padEnd(width)}  print the version`,
    '',
    'Agents: AGENT_<NAME>_CMD overrides the command line of an agent (e.g. AGENT_CLAUDE_CMD),',
    'AGENT_CUSTOM_CMD defines the generic "custom" agent.',
  ].join('\n')
}

const WEAK_SECRETS = new Set(['change_me', 'changeme', 'secret', 'password'])

function parseInteger(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: "${raw}" is not a whole number; use ${min} to ${max}`)
  const value = Number(raw.trim())
  if (value < min || value > max) throw new ConfigError(`${name}: ${value} is out of range; use ${min} to ${max}`)
  return value
}

function parseBoolean(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(`${name}: "${raw}" is not a boolean; use true or false`)
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function parseAllowlist(raw: string): string[] {
  const dirs = splitList(raw)
  if (dirs.length === 0) throw new ConfigError('REPO_ALLOWLIST: empty; give at least one absolute directory')
  return dirs.map((dir) => {
    if (!isAbsolute(dir)) throw new ConfigError(`REPO_ALLOWLIST: "${dir}" is not an absolute path; write it from /`)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ConfigError(`REPO_ALLOWLIST: "${dir}" is not an existing directory`)
    }
    return realpathSync(dir)
  })
}

function parseOrigins(raw: string): string[] {
  return splitList(raw).map((origin) => {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin like http://localhost:19006`)
    }
    if (url.origin === 'null') throw new ConfigError(`CORS_ORIGINS: "${origin}" has no usable origin`)
    return url.origin
  })
}

function parsePublicUrl(raw: string): URL | null {
  if (raw.trim() === '') return null
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError(`PUBLIC_URL: "${raw}" is not a URL like https://my-tunnel.example`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_URL: "${raw}" must start with http:// or https://`)
  }
  return url
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
}

/**
 * Builds the one validated Config from the environment and the command line. Throws ConfigError
 * with a single line naming the variable; the caller prints it and exits non-zero.
 */
export function loadConfig(env: Record<string, string | undefined>, flagValues: Record<string, string> = {}, cwd = process.cwd()): Config {
  const get = (name: string): string | undefined => flagValues[name] ?? env[name]
  const devMode = parseBoolean('DEV_MODE', get('DEV_MODE') ?? '')

  const port = parseInteger('PORT', get('PORT') ?? '8080', 0, 65535)
  const host = (get('HOST') ?? '127.0.0.1').trim()
  if (host === '') throw new ConfigError('HOST: empty; use 127.0.0.1, 0.0.0.0 or an address of this machine')

  const rawSecret = get('JWT_SECRET')
  let jwtSecret: string
  let jwtSecretGenerated = false
  if (rawSecret === undefined || rawSecret === '') {
    jwtSecret = randomBytes(32).toString('hex')
    jwtSecretGenerated = true
  } else {
    const weak = WEAK_SECRETS.has(rawSecret.toLowerCase()) || Buffer.byteLength(rawSecret) < 32
    if (weak && !devMode) {
      throw new ConfigError('JWT_SECRET: too weak (change_me or under 32 bytes); use e.g. `openssl rand -hex 32`')
    }
    jwtSecret = rawSecret
  }

  const rawPairing = get('PAIRING_TOKEN')
  const pairingTokenGenerated = rawPairing === undefined || rawPairing === ''
  const pairingToken = pairingTokenGenerated ? randomBytes(24).toString('base64url') : rawPairing!
  if (!pairingTokenGenerated && Buffer.byteLength(pairingToken) < 16 && !devMode) {
    throw new ConfigError('PAIRING_TOKEN: too short (under 16 bytes); leave it unset for a random one')
  }

  const cmdAllowlist = get('CMD_ALLOWLIST') !== undefined ? splitList(get('CMD_ALLOWLIST')!) : DEFAULT_CMD_ALLOWLIST

  const agentCommands: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    const match = /^AGENT_([A-Z0-9_]+)_CMD$/.exec(key)
    if (match && value) agentCommands[match[1]!.toLowerCase()] = value
  }

  const logLevel = (get('LOG_LEVEL') ?? 'info').toLowerCase()
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: "${logLevel}" is not one of debug, info, warn, error, silent`)
  }
  const logFormat = (get('LOG_FORMAT') ?? 'text').toLowerCase()
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigError(`LOG_FORMAT: "${logFormat}" is not text or json`)

  const stateDirRaw = expandHome(get('STATE_DIR') ?? '~/.cockpit-coder')
  if (!isAbsolute(stateDirRaw)) throw new ConfigError(`STATE_DIR: "${stateDirRaw}" is not an absolute path`)

  const defaultAgent = (get('DEFAULT_AGENT') ?? 'mock').trim()
  if (!/^[a-z0-9_-]+$/.test(defaultAgent)) throw new ConfigError(`DEFAULT_AGENT: "${defaultAgent}" is not an agent name`)

  return Object.freeze({
    port,
    host,
    publicUrl: parsePublicUrl(get('PUBLIC_URL') ?? ''),
    jwtSecret,
    jwtSecretGenerated,
    pairingToken,
    pairingTokenGenerated,
    devMode,
    sessionTtlSeconds: parseInteger('SESSION_TTL_SECONDS', get('SESSION_TTL_SECONDS') ?? '86400', 10, 31_536_000),
    repoAllowlist: Object.freeze(parseAllowlist(get('REPO_ALLOWLIST') ?? resolve(cwd))),
    cmdAllowlist: Object.freeze(cmdAllowlist),
    corsOrigins: Object.freeze(parseOrigins(get('CORS_ORIGINS') ?? 'http://localhost:19006')),
    stateDir: resolve(stateDirRaw),
    defaultAgent,
    allowedHosts: Object.freeze(splitList(get('ALLOWED_HOSTS') ?? '').map((h) => h.toLowerCase())),
    bodyLimitBytes: parseInteger('BODY_LIMIT_BYTES', get('BODY_LIMIT_BYTES') ?? '1048576', 1024, 1024 * 1024 * 1024),
    logLevel: logLevel as LogLevel,
    logFormat: logFormat as 'text' | 'json',
    taskTimeoutMs: parseInteger('TASK_TIMEOUT_SECONDS', get('TASK_TIMEOUT_SECONDS') ?? '1800', 1, 86_400) * 1000,
    cmdTimeoutMaxMs: parseInteger('CMD_TIMEOUT_MAX_SECONDS', get('CMD_TIMEOUT_MAX_SECONDS') ?? '600', 1, 86_400) * 1000,
    cmdOutputLimitBytes: parseInteger('CMD_OUTPUT_LIMIT_BYTES', get('CMD_OUTPUT_LIMIT_BYTES') ?? '1048576', 1024, 256 * 1024 * 1024),
    cmdConcurrencyPerSession: parseInteger('CMD_CONCURRENCY', get('CMD_CONCURRENCY') ?? '4', 1, 64),
    ptyScrollbackBytes: parseInteger('PTY_SCROLLBACK_BYTES', get('PTY_SCROLLBACK_BYTES') ?? '262144', 1024, 64 * 1024 * 1024),
    ptyIdleSeconds: parseInteger('PTY_IDLE_SECONDS', get('PTY_IDLE_SECONDS') ?? '3600', 1, 31_536_000),
    ptyMaxPerSession: parseInteger('PTY_MAX_PER_SESSION', get('PTY_MAX_PER_SESSION') ?? '8', 1, 1024),
    ptyMaxTotal: parseInteger('PTY_MAX_TOTAL', get('PTY_MAX_TOTAL') ?? '256', 1, 65_536),
    workspaceMaxBytes: parseInteger('WORKSPACE_MAX_BYTES', get('WORKSPACE_MAX_BYTES') ?? '2147483648', 1024 * 1024, Number.MAX_SAFE_INTEGER),
    agentCommands: Object.freeze(agentCommands),
  })
}
