import { write as writeAsync, writeSync } from 'node:fs'
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

/** Where lines go: `write` takes one line; `flush` (if any) pushes out what is held back. */
export type LogSink = ((line: string) => void) & { flush?: () => void }

/** A line's timestamp; under load many lines share a millisecond, so the ISO string is made once per ms. */
let lastMs = 0
let lastIso = ''
function isoNow(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastIso = new Date(now).toISOString()
  }
  return lastIso
}

/**
 * Lines to a file descriptor in batches, off the request path: a synchronous write per request
 * line was 10% of an authenticated GET's time (measured with --cpu-prof under wrk). Lines wait
 * at most `delayMs`, are written with one asynchronous write per batch (the thread pool waits on a
 * slow terminal or a full pipe, not this thread), and are flushed synchronously at exit. Bounded:
 * while the descriptor does not keep up, lines beyond `maxBytes` are dropped and counted.
 *
 * Each line is encoded into the batch's buffer as it comes: holding the strings and joining them
 * per batch (then encoding the joined string) copied every line twice more, and was the largest
 * part of the server's JavaScript time under wrk (join 12%, Buffer.from 5% of the samples).
 */
export function createBatchedSink(fd = 2, options: { delayMs?: number; maxBytes?: number } = {}): LogSink {
  const delayMs = options.delayMs ?? 20
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024
  const chunkBytes = 64 * 1024
  /** The batch: filled buffers, then the one being filled (`current`, `used` bytes of it). */
  let filled: Buffer[] = []
  // Allocated by the first line of a batch (hold), so a batch or flush with nothing after it costs none.
  let current = Buffer.alloc(0)
  let used = 0
  let heldBytes = 0
  let dropped = 0
  let writing = false
  let timer: ReturnType<typeof setTimeout> | null = null

  const hold = (line: string) => {
    // At most 3 bytes per UTF-16 unit, plus the newline.
    const most = line.length * 3 + 1
    if (used + most > current.length) {
      if (used > 0) filled.push(current.subarray(0, used))
      current = Buffer.allocUnsafe(Math.max(chunkBytes, most))
      used = 0
    }
    const written = current.write(line, used)
    current[used + written] = 10
    used += written + 1
    heldBytes += written + 1
  }
  /** The batch's buffers, in order; the next batch starts in new ones (these may still be written). */
  const take = (): Buffer[] => {
    if (dropped > 0) hold(`${isoNow()} WARN log lines dropped (the log output did not keep up) count=${dropped}`)
    if (used > 0) filled.push(current.subarray(0, used))
    const batch = filled
    filled = []
    current = Buffer.alloc(0)
    used = 0
    heldBytes = 0
    dropped = 0
    return batch
  }
  const writeBatch = () => {
    timer = null
    if (writing || heldBytes === 0) return
    writing = true
    const chunks = take()
    let chunk = 0
    let offset = 0
    const next = (): void => {
      const bytes = chunks[chunk]!
      writeAsync(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
        offset += error ? bytes.length : written
        if (offset >= bytes.length) {
          chunk++
          offset = 0
        }
        if (chunk < chunks.length) return next()
        writing = false
        if (heldBytes > 0) schedule()
      })
    }
    next()
  }
  const schedule = () => {
    if (timer) return
    timer = setTimeout(writeBatch, delayMs)
    timer.unref?.()
  }
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (heldBytes === 0 && dropped === 0) return
    try {
      for (const bytes of take()) writeSync(fd, bytes)
    } catch {
      // a closed stderr cannot be told about it
    }
  }
  process.once('exit', flush)

  const sink: LogSink = (line: string) => {
    if (heldBytes + line.length > maxBytes) {
      dropped++
      return
    }
    hold(line)
    schedule()
  }
  sink.flush = flush
  return sink
}

const LABELS: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'SILENT' }

function formatText(at: LogLevel, message: string, fields: Record<string, unknown> | undefined): string {
  let line = `${isoNow()} ${LABELS[at]} ${message}`
  if (fields) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      // Strings and finite numbers (a request line's method, path, status, ms) without JSON.stringify:
      // it was most of formatting a request line.
      line += ` ${key}=${typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(value)}`
    }
  }
  return line
}

let stderr: LogSink | null = null
/** The one batched sink of this process's stderr (one exit hook, one batch for every logger). */
export function stderrSink(): LogSink {
  stderr ??= createBatchedSink(2)
  return stderr
}

/**
 * Logs go to stderr so stdout stays for what a user reads at start-up (URL, pairing token, QR).
 * Warnings and errors flush what is held at once, so they (and what led to them) are never lost
 * to a crash that follows.
 */
export function createLogger(level: LogLevel, format: 'text' | 'json', write: LogSink = stderrSink()): Logger {
  const threshold = ORDER[level]
  const emit = (at: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < threshold) return
    write(format === 'json' ? JSON.stringify({ ts: isoNow(), level: at, msg: message, ...fields }) : formatText(at, message, fields))
    if (ORDER[at] >= ORDER.warn) write.flush?.()
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
