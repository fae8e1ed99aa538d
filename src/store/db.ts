/**
 * Opening STATE_DIR/state.db: the directory (0700), the one-server lock, the pragmas and the
 * migrations. Every failure is a StateError whose message is the one line start-up prints.
 */
import { Database } from 'bun:sqlite'
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { processRunning } from '../procs'
import { MIGRATIONS, SCHEMA_VERSION } from './schema'

export class StateError extends Error {}

export const STATE_FILE = 'state.db'
const PID_FILE = 'server.pid'

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'error'
}

/** Makes STATE_DIR (0700) and proves this process can write in it, or throws one line saying why not. */
export function prepareStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 })
    if (!statSync(stateDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    const probe = join(stateDir, `.write-test-${process.pid}`)
    const fd = openSync(probe, 'w', 0o600)
    writeSync(fd, 'ok')
    closeSync(fd)
    unlinkSync(probe)
  } catch (error) {
    throw new StateError(`STATE_DIR: ${stateDir} is not writable (${codeOf(error)}); set STATE_DIR to a directory this server can write.`)
  }
  // Workspaces hold copies of the user's code and state.db holds session records: owner only.
  const mode = statSync(stateDir).mode & 0o777
  if (mode !== 0o700) {
    try {
      chmodSync(stateDir, 0o700)
    } catch (error) {
      throw new StateError(`STATE_DIR: ${stateDir} has mode ${mode.toString(8)} and cannot be made 0700 (${codeOf(error)}).`)
    }
  }
}

function readPid(stateDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(stateDir, PID_FILE), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function busy(error: unknown): boolean {
  const code = codeOf(error)
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED'
}

function refuseSecondServer(stateDir: string): never {
  // The holder writes its pid right after it took the lock; give a server that is just starting a moment.
  let pid = readPid(stateDir)
  for (let i = 0; i < 20 && (pid === null || pid === process.pid || !processRunning(pid)); i++) {
    Bun.sleepSync(25)
    pid = readPid(stateDir)
  }
  const who = pid !== null && processRunning(pid) ? `pid ${pid}` : 'another process'
  throw new StateError(`STATE_DIR: ${stateDir} is in use by another Cockpit Coder server (${who}); stop it or use another STATE_DIR.`)
}

/**
 * Opens state.db and holds it for this process alone. The lock is SQLite's own (EXCLUSIVE
 * locking mode, taken by the first write and kept until close): the kernel drops it when the
 * process dies, so a crashed server never leaves STATE_DIR stuck, and no second server can
 * open the file meanwhile. WAL with synchronous=NORMAL: a transaction that returned survives a
 * SIGKILL of the process (only an OS crash may lose the last ones), and an interrupted one is
 * rolled back when the file is opened next, without repair.
 */
export function openDatabase(stateDir: string, options: { initialize?: (db: Database) => void } = {}): Database {
  prepareStateDir(stateDir)
  const path = join(stateDir, STATE_FILE)
  if (!existsSync(path)) createWhole(stateDir, path, options.initialize)
  let db: Database
  try {
    db = new Database(path, { create: true, strict: true })
  } catch (error) {
    throw new StateError(`STATE_DIR: ${path} cannot be opened (${codeOf(error)}: ${(error as Error).message}).`)
  }
  try {
    db.exec('PRAGMA busy_timeout = 0')
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
  } catch (error) {
    db.close()
    if (busy(error)) refuseSecondServer(stateDir)
    throw new StateError(`STATE_DIR: ${path} is not a usable database (${codeOf(error)}: ${(error as Error).message}).`)
  }
  writePidFile(stateDir)
  try {
    removeStrays(stateDir)
    chmodSync(path, 0o600)
    db.exec('PRAGMA synchronous = NORMAL')
    // The WAL is copied back into the file (a checkpoint, with its fsync) by the commit that takes
    // it past this many pages, on the event loop. Measured while an agent printed 1 Mi characters
    // a second for 6 s (scripts/bench-flood.ts's load, from source, two runs each way), at
    // SQLite's default of 1000 pages (4 MiB) the longest commit took 21-23 ms and requests p99
    // 17-26 ms; at 250, 8.5-9.6 ms and 9-10 ms, for about 20% more time in commits overall.
    db.exec('PRAGMA wal_autocheckpoint = 250')
    db.exec('PRAGMA foreign_keys = ON')
    migrate(db, path)
  } catch (error) {
    db.close()
    if (error instanceof StateError) throw error
    throw new StateError(`STATE_DIR: ${path} could not be prepared (${codeOf(error)}: ${(error as Error).message}).`)
  }
  return db
}

/**
 * Makes a new state.db beside its place and links it in whole, so the open below finds it
 * made. Made in place, a first start paid six fsyncs on the start-up path (the journal of the
 * switch to WAL twice, the directory twice, the file, the new WAL's header); this pays two (the
 * file, then the directory). On this machine's shared disk, where one fsync took 1 to 95 ms,
 * openState on a new STATE_DIR took a median 15.5 and 18.8 ms made in place against 12.6 and
 * 11.0 ms made whole (12 opens each, two rounds, load 4.6). Nothing is lost by skipping the
 * others: the file is only visible under its name once it is complete and synced; a start
 * killed before that leaves a stray `state.db.new-<pid>` and no state.db, so the next start
 * makes it again (and removeStrays removes the stray). `initialize` writes what a new database
 * starts with (the epoch), so the open needs no first write (and no WAL header sync). Any
 * failure here falls back to making the file in place, which reports the error as before; if
 * another server linked its file in first (EEXIST), the open below meets that server's lock.
 */
function createWhole(stateDir: string, path: string, initialize?: (db: Database) => void): void {
  const temp = `${path}.new-${process.pid}`
  const removeTemp = () => {
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(temp + suffix, { force: true })
  }
  try {
    removeTemp()
    const db = new Database(temp, { create: true, strict: true })
    try {
      // No journal file and no syncs while it is made: the file is thrown away unless it is
      // complete. MEMORY, as this SQLite refuses OFF (it stays `delete`, a journal file made and
      // removed per transaction).
      db.exec('PRAGMA journal_mode = MEMORY')
      db.exec('PRAGMA synchronous = OFF')
      migrate(db, temp)
      initialize?.(db)
      db.exec('PRAGMA journal_mode = WAL')
    } finally {
      db.close()
    }
    chmodSync(temp, 0o600)
    fsyncPath(temp)
    linkSync(temp, path)
    fsyncPath(stateDir)
  } catch {
    // Made in place below instead, with the error (if any) reported there.
  } finally {
    try {
      removeTemp()
    } catch {
      // A stray temp file is harmless: it is never opened under its name.
    }
  }
}

/** What a start killed while making state.db (createWhole) or probing STATE_DIR left, named by its pid. */
const STRAY_FILE = /^(?:state\.db\.new-(\d+)(?:-journal|-wal|-shm)?|\.write-test-(\d+))$/

/**
 * Removes what earlier starts left behind when they were killed mid-way: it is never opened
 * under its name, so it would stay for good. Run once this server holds the lock; a file whose
 * pid still runs is left to that process.
 */
function removeStrays(stateDir: string): void {
  for (const name of readdirSync(stateDir)) {
    const match = STRAY_FILE.exec(name)
    if (!match) continue
    const pid = Number(match[1] ?? match[2])
    if (pid !== process.pid && !processRunning(pid)) rmSync(join(stateDir, name), { force: true })
  }
}

/** fsync of a file or a directory by its path. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function writePidFile(stateDir: string): void {
  const file = join(stateDir, PID_FILE)
  const tmp = `${file}.${process.pid}`
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 })
  renameSync(tmp, file)
}

/** Runs the migrations this database has not seen; refuses one made by a newer binary. */
export function migrate(db: Database, path: string): void {
  const version = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version > SCHEMA_VERSION) {
    throw new StateError(
      `STATE_DIR: ${path} has schema version ${version}, newer than this server's ${SCHEMA_VERSION}; run the newer Cockpit Coder or use another STATE_DIR.`,
    )
  }
  for (let next = version; next < SCHEMA_VERSION; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!)
      db.exec(`PRAGMA user_version = ${next + 1}`)
    })()
  }
}

/** Removes the pid file if it is still ours (at shutdown, after the database closed). */
export function releasePidFile(stateDir: string): void {
  if (readPid(stateDir) !== process.pid) return
  try {
    unlinkSync(join(stateDir, PID_FILE))
  } catch {
    // Already gone: nothing to release.
  }
}
