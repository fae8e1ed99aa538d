import { dlopen } from 'bun:ffi'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { isLive, readProcTable } from './proc-table'

/** prctl(2) option: orphaned descendants are re-parented to this process instead of init. */
const PR_SET_CHILD_SUBREAPER = 36
const WNOHANG = 1
const LIBC_NAMES = ['libc.so.6', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1']

type Libc = {
  prctl(option: number, a: bigint, b: bigint, c: bigint, d: bigint): number
  waitpid(pid: number, status: null, options: number): number
}

let libc: Libc | undefined
let enabled = false

function openLibc(): Libc {
  const errors: string[] = []
  for (const name of LIBC_NAMES) {
    try {
      const lib = dlopen(name, {
        prctl: { args: ['int', 'u64', 'u64', 'u64', 'u64'], returns: 'int' },
        waitpid: { args: ['int', 'ptr', 'int'], returns: 'int' },
      })
      return lib.symbols as unknown as Libc
    } catch (error) {
      errors.push(`${name}: ${(error as Error).message}`)
    }
  }
  throw new Error(`no C library to call prctl through (${errors.join('; ')})`)
}

export type SubreaperState = { enabled: true } | { enabled: false; reason: string }

/**
 * Makes this process a child subreaper (Linux 3.4+): a process that leaves its parent's tree
 * with setsid and a double fork is re-parented to the server, not to init, so it stays a
 * descendant that ending its session can find (marker.ts). Orphans adopted this way are children
 * Bun did not spawn and never waits for, so they are reaped here on SIGCHLD. Elsewhere than Linux
 * it answers why not, and escaped processes are out of reach as before.
 */
export function enableChildSubreaper(): SubreaperState {
  if (enabled) return { enabled: true }
  if (process.platform !== 'linux') return { enabled: false, reason: `child subreapers are a Linux feature; this is ${process.platform}` }
  try {
    libc ??= openLibc()
  } catch (error) {
    return { enabled: false, reason: (error as Error).message }
  }
  if (libc.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) return { enabled: false, reason: 'prctl(PR_SET_CHILD_SUBREAPER) was refused' }
  enabled = true
  process.on('SIGCHLD', scheduleReap)
  return { enabled: true }
}

let reapTimer: ReturnType<typeof setTimeout> | undefined

/** SIGCHLD comes once per exit and in bursts; one pass over /proc after a burst is enough. */
function scheduleReap(): void {
  reapTimer ??= setTimeout(() => {
    reapTimer = undefined
    reapAdoptedChildren()
  }, 50)
}

/**
 * Pids of the children Bun waits for itself. Bun 1.4.4 on Linux holds a pidfd for every process
 * it spawns until it has collected its exit (test/procs/subreaper.test.ts checks this), so a
 * zombie child with no pidfd of ours is an adopted orphan. Reaping one of Bun's own would steal
 * its exit status from `proc.exited`.
 */
function childrenBunWaitsFor(): Set<number> {
  const pids = new Set<number>()
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:[pidfd]') continue
      const match = /^Pid:\s*(-?\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))
      if (match) pids.add(Number(match[1]))
    } catch {
      // closed meanwhile
    }
  }
  return pids
}

/** Collects the exit of every adopted child that has ended; answers how many. A no-op unless enabled. */
export function reapAdoptedChildren(): number {
  if (!enabled || !libc) return 0
  const table = readProcTable()
  if (!table) return 0
  const zombies = [...table.values()].filter((row) => row.ppid === process.pid && !isLive(row))
  if (zombies.length === 0) return 0
  const bunOwn = childrenBunWaitsFor()
  let reaped = 0
  for (const zombie of zombies) {
    if (bunOwn.has(zombie.pid)) continue
    if (libc.waitpid(zombie.pid, null, WNOHANG) === zombie.pid) reaped++
  }
  return reaped
}

export function childSubreaperEnabled(): boolean {
  return enabled
}
