import { readdirSync, readFileSync } from 'node:fs'

/**
 * Signals a whole process group. Children are always started as group leaders (setsid or a new
 * PTY session), so the negative pid reaches every grandchild too: nothing outlives its owner.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false
  try {
    process.kill(-pid, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

/**
 * True while some member of the group is still running. `kill(-pgid, 0)` alone also succeeds for
 * zombies: orphaned grandchildren are reparented to init, and an init that reaps lazily (a
 * container's PID 1, or this server itself as PID 1 in Docker without --init) leaves them in the
 * table long after they died. On Linux /proc tells a zombie from a live process, so a dead group
 * is not waited on (and SIGKILLed) for nothing.
 */
export function groupAlive(pid: number): boolean {
  if (!signalGroup(pid, 0 as unknown as NodeJS.Signals)) return false
  const states = groupMemberStates(pid)
  if (states === null) return true
  return states.some((state) => state !== 'Z' && state !== 'X')
}

/** States (`R`, `S`, `Z`...) of the group's members from /proc, or null where /proc is not Linux's. */
function groupMemberStates(pgid: number): string[] | null {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return null
  }
  const states: string[] = []
  let sawAny = false
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // the process ended between readdir and read
    }
    sawAny = true
    // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses, so cut at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) === pgid && fields[0] !== undefined) states.push(fields[0])
  }
  return sawAny ? states : null
}

/** SIGTERM the group, then SIGKILL whatever is still there after `graceMs`. Resolves when gone. */
export async function terminateGroup(pid: number, graceMs = 1500): Promise<void> {
  if (!signalGroup(pid, 'SIGTERM')) return
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    await Bun.sleep(25)
    if (!groupAlive(pid)) return
  }
  signalGroup(pid, 'SIGKILL')
  const killDeadline = Date.now() + 2000
  while (groupAlive(pid) && Date.now() < killDeadline) await Bun.sleep(10)
}
