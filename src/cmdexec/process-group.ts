import { isLive, readProcTable } from '../procs/proc-table'

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
 * zombies: orphaned grandchildren are reparented to this server (a child subreaper, which reaps
 * them on SIGCHLD a moment later) or, where that is off, to init, and an init that reaps lazily
 * (a container's PID 1) leaves them in the table long after they died. On Linux /proc tells a zombie from a live process, so a dead group
 * is not waited on (and SIGKILLed) for nothing.
 */
export function groupAlive(pid: number): boolean {
  if (!signalGroup(pid, 0 as unknown as NodeJS.Signals)) return false
  const table = readProcTable()
  if (table === null) return true
  for (const row of table.values()) if (row.pgrp === pid && isLive(row)) return true
  return false
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
