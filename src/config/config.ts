import type * as Util from 'node:util'
import { OPTIONS, shownDefault, type Option, type Settings } from './options'
import { ConfigError, type ParseContext } from './parsers'

export type LogLevel = Settings['logLevel']

export type Config = Readonly<
  Settings & {
    jwtSecretGenerated: boolean
    pairingTokenGenerated: boolean
    /** AGENT_<NAME>_CMD overrides: agent name (lower case) → command line. */
    agentCommands: Readonly<Record<string, string>>
    /** AGENT_<NAME>_MODE: agent name (lower case) → auto, acp or print. */
    agentModes: Readonly<Record<string, 'auto' | 'acp' | 'print'>>
    /** AGENT_<NAME>_ACP_CMD: agent name (lower case) → the ACP command line (split by the agents layer). */
    agentAcpCommands: Readonly<Record<string, string>>
    /**
     * The server's own environment, read once here: children's environments are built from it
     * (policy/env.ts picks the allowed names), programs are looked up on its PATH. Nothing
     * outside config/ reads process.env.
     */
    environment: Readonly<Record<string, string>>
  }
>

type ParsedArgs = { values: Record<string, string>; help: boolean; version: boolean }

type ArgSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>

/**
 * A command line of long options only (`--port 0`, `--host=x --rotate-secrets`), read as
 * node:util's parseArgs reads it, without importing node:util: that costs about 2.5 ms of every
 * start in the compiled binary. Null for anything else (a short flag, `--`, a positional, an
 * unknown name, `=` on a flag that takes no value, a missing or empty value or one starting with
 * `-`), which goes to parseArgs itself, so its errors and edge cases stay as they were.
 */
export function parsePlainArgs(argv: readonly string[], spec: ArgSpec): Record<string, string | boolean> | null {
  const values: Record<string, string | boolean> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--') || arg.length === 2) return null
    const equals = arg.indexOf('=')
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals)
    const option = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (!option) return null
    if (option.type === 'boolean') {
      if (equals !== -1) return null
      values[name] = true
      continue
    }
    const value = equals === -1 ? argv[++i] : arg.slice(equals + 1)
    if (value === undefined || value === '' || value.startsWith('-')) return null
    values[name] = value
  }
  return values
}

/** The flags: --help, --version and one per option of the table. */
export function argSpec(): ArgSpec {
  const spec: ArgSpec = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  }
  for (const o of OPTIONS as readonly Option[]) spec[o.flag] = { type: o.arg === undefined ? 'boolean' : 'string' }
  return spec
}

/** The command line: `--flag value`, `--flag=value`, a bare `--dev-mode`; values keyed by variable name. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const spec = argSpec()
  let parsed: { values: Record<string, string | boolean | undefined> }
  try {
    const plain = parsePlainArgs(argv, spec)
    parsed = plain ? { values: plain } : (require('node:util') as typeof Util).parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false })
  } catch (error) {
    // node:util's messages are long and suggest `--`; one line naming the flag is enough here.
    const text = (error as Error).message
    const flag = /'(-[^' ]+)/.exec(text)?.[1]
    const code = (error as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) throw new ConfigError(`${flag.split(' ')[0]} needs a value; see --help`)
    throw new ConfigError(`${flag ? `unknown option ${flag}` : text.split('\n')[0]}; see --help`)
  }
  const values: Record<string, string> = {}
  for (const o of OPTIONS as readonly Option[]) {
    const value = parsed.values[o.flag]
    if (value !== undefined) values[o.env] = typeof value === 'boolean' ? String(value) : String(value)
  }
  return { values, help: parsed.values.help === true, version: parsed.values.version === true }
}

export function usage(version: string): string {
  const options = OPTIONS as readonly Option[]
  const left = (o: Option) => `--${o.flag}${o.arg ? ` ${o.arg}` : ''}`
  const width = Math.max(...options.map((o) => left(o).length))
  const lines = options.map((o) => `  ${left(o).padEnd(width)}  ${o.env.padEnd(24)} ${o.help.replaceAll('`', '')} [${shownDefault(o)}]`)
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
    'AGENT_CUSTOM_CMD defines the generic "custom" agent. AGENT_<NAME>_MODE is auto (ACP when its',
    'entry point is on PATH), acp or print; AGENT_<NAME>_ACP_CMD replaces its ACP command line.',
  ].join('\n')
}

/**
 * AGENT_<NAME>_CMD, AGENT_<NAME>_MODE and AGENT_<NAME>_ACP_CMD, by lower-case agent name. The
 * ACP variable is matched first: AGENT_CLAUDE_ACP_CMD is not the CMD of an agent "claude_acp".
 */
function parseAgentVariables(env: Record<string, string>) {
  const agentCommands: Record<string, string> = {}
  const agentModes: Record<string, 'auto' | 'acp' | 'print'> = {}
  const agentAcpCommands: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (!value) continue
    const acp = /^AGENT_([A-Z0-9_]+)_ACP_CMD$/.exec(key)
    if (acp) {
      agentAcpCommands[acp[1]!.toLowerCase()] = value
      continue
    }
    const mode = /^AGENT_([A-Z0-9_]+)_MODE$/.exec(key)
    if (mode) {
      const setting = value.trim().toLowerCase()
      if (setting !== 'auto' && setting !== 'acp' && setting !== 'print') throw new ConfigError(`${key}: "${value}" is not auto, acp or print`)
      agentModes[mode[1]!.toLowerCase()] = setting
      continue
    }
    const cmd = /^AGENT_([A-Z0-9_]+)_CMD$/.exec(key)
    if (cmd) agentCommands[cmd[1]!.toLowerCase()] = value
  }
  return { agentCommands, agentModes, agentAcpCommands }
}

function readOption<T>(o: Option<string, T>, raw: string | undefined, context: Omit<ParseContext, 'name'>): T {
  const withName = { ...context, name: o.env }
  if (raw === undefined) return typeof o.default === 'function' ? (o.default as (c: ParseContext) => T)(withName) : o.default
  return o.parse(raw, withName)
}

/** A JWT secret made when none is given: 32 random bytes, hex. */
export function newJwtSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}

/** A pairing token made when none is given: 24 random bytes, base64url. */
export function newPairingToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
}

/**
 * Builds the one validated Config from the environment and the command line. Throws ConfigError
 * with a single line naming the variable; the caller prints it and exits non-zero.
 */
export function loadConfig(env: Record<string, string | undefined>, flagValues: Record<string, string> = {}, cwd = process.cwd()): Config {
  const get = (o: Option) => flagValues[o.env] ?? env[o.env]
  const options = OPTIONS as readonly Option[]
  // DEV_MODE first: it decides how strict the secrets' parsers are.
  const devOption = options.find((o) => o.key === 'devMode')!
  const devMode = readOption(devOption, get(devOption), { devMode: false, cwd }) as boolean
  const settings: Record<string, unknown> = {}
  for (const o of options) settings[o.key] = readOption(o, get(o), { devMode, cwd })
  const s = settings as Settings

  const environment: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) environment[key] = value
  const { agentCommands, agentModes, agentAcpCommands } = parseAgentVariables(environment)

  return Object.freeze({
    ...s,
    jwtSecret: s.jwtSecret === '' ? newJwtSecret() : s.jwtSecret,
    jwtSecretGenerated: s.jwtSecret === '',
    pairingToken: s.pairingToken === '' ? newPairingToken() : s.pairingToken,
    pairingTokenGenerated: s.pairingToken === '',
    agentCommands: Object.freeze(agentCommands),
    agentModes: Object.freeze(agentModes),
    agentAcpCommands: Object.freeze(agentAcpCommands),
    environment: Object.freeze(environment),
  })
}

/** The Config main.ts uses: this process's environment and arguments. */
export function loadProcessConfig(argv: readonly string[]): { config?: Config; help: boolean; version: boolean } {
  const { values, help, version } = parseArgs(argv)
  if (help || version) return { help, version }
  return { config: loadConfig(process.env, values), help, version }
}

export { ConfigError }
