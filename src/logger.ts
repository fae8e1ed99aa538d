import type { LogLevel } from './config'

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/**
 * The one way anything is logged: every layer gets a Logger (from createServices) instead of
 * writing to the console, so LOG_LEVEL and LOG_FORMAT=json hold for every line. Kept small on
 * purpose: four levels, a message and flat fields; `error` values go in as fields.
 */
export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Logs go to stderr so stdout stays for what a user reads at start-up (URL, pairing token, QR). */
export function createLogger(level: LogLevel, format: 'text' | 'json', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const emit = (at: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[at] < ORDER[level]) return
    if (format === 'json') {
      write(JSON.stringify({ ts: new Date().toISOString(), level: at, msg: message, ...fields }))
      return
    }
    const extras = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')
    write(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${extras ? ' ' + extras : ''}`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  }
}

/** An error as one loggable string (an Error object serialises to `{}` in JSON). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`
  return String(error)
}

/** For parts built without a server around them (unit tests): logs nothing. */
export const SILENT_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * The logger of a part built on its own (a unit test); createServices always hands every part
 * the configured one, so in the server nothing logs past LOG_LEVEL and LOG_FORMAT.
 */
export const STANDALONE_LOGGER: Logger = createLogger('warn', 'text')
