/**
 * Shared by the fault, fuzz and load tests: polling with a deadline instead of fixed sleeps, and
 * the process table (read with `ps`, as the brief asks) to prove nothing was left running.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}

export type ProcessRow = { pid: number; ppid: number; pgid: number; stat: string; args: string }

/** `ps -eo pid,ppid,pgid,stat,args`, parsed. */
export function processTable(): ProcessRow[] {
  const result = Bun.spawnSync(['ps', '-eo', 'pid=,ppid=,pgid=,stat=,args='], { stdout: 'pipe', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`ps failed: ${result.stderr.toString()}`)
  const rows: ProcessRow[] = []
  for (const line of result.stdout.toString().split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line)
    if (!match) continue
    rows.push({ pid: Number(match[1]), ppid: Number(match[2]), pgid: Number(match[3]), stat: match[4]!, args: match[5]! })
  }
  return rows
}

const isLive = (row: ProcessRow) => !row.stat.startsWith('Z') && !row.stat.startsWith('X')

/** Live processes below `pid` in the tree (children, grandchildren...). */
export function descendantsOf(pid: number, table = processTable()): ProcessRow[] {
  const found: ProcessRow[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const parent = queue.shift()!
    for (const row of table) {
      if (row.ppid !== parent) continue
      queue.push(row.pid)
      if (isLive(row)) found.push(row)
    }
  }
  return found
}

function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return null // gone, or not ours to read
  }
}

/**
 * Live processes (other than this test process and `ps` itself) whose arguments mention one of
 * `markers`, or whose working directory is inside one of `dirs`: what a test started and must
 * not leave behind.
 */
export function leftoverProcesses(markers: readonly string[], dirs: readonly string[] = []): ProcessRow[] {
  return processTable().filter((row) => {
    if (!isLive(row) || row.pid === process.pid || row.args.startsWith('ps -eo')) return false
    if (markers.some((marker) => row.args.includes(marker))) return true
    const cwd = dirs.length > 0 ? cwdOf(row.pid) : null
    return cwd !== null && dirs.some((dir) => cwd === dir || cwd.startsWith(dir + '/'))
  })
}

/** Waits until no leftover process remains; throws listing them otherwise. */
export async function expectNoLeftovers(markers: readonly string[], dirs: readonly string[] = [], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let rows = leftoverProcesses(markers, dirs)
  while (rows.length > 0 && Date.now() < deadline) {
    await Bun.sleep(50)
    rows = leftoverProcesses(markers, dirs)
  }
  if (rows.length > 0) throw new Error(`processes left behind:\n${rows.map((r) => `${r.pid} ${r.pgid} ${r.stat} ${r.args}`).join('\n')}`)
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Resident set size of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS for ${pid}`)
  return Number(match[1])
}

/** A response's JSON body and status; throws with the text when it is not JSON. */
export async function jsonOf<T = Record<string, unknown>>(response: Response): Promise<{ status: number; body: T }> {
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) as T }
  } catch {
    throw new Error(`${response.status} answered with a body that is not JSON: ${text.slice(0, 200)}`)
  }
}
