import { groupAlive, signalGroup } from '../cmdexec/process-group'
import { isLive, readProcTable } from '../procs/proc-table'

/**
 * A PTY child is a session leader (setsid), but an interactive shell with job control puts every
 * pipeline and background job in a process group of its own, inside the same session: killing
 * the shell's group alone would leave `sleep 1000 &` or a running `tail -f` behind. So the
 * terminal's kill also signals every process group that still belongs to the terminal's session.
 * Linux only (/proc); elsewhere the shell's own group and the kernel's hangup on the closed PTY
 * are what stops them.
 */
export function sessionProcessGroups(sessionId: number): number[] {
  const groups = new Set<number>()
  for (const row of readProcTable()?.values() ?? []) {
    if (isLive(row) && row.session === sessionId && row.pgrp > 1) groups.add(row.pgrp)
  }
  return [...groups]
}

/** Sends `signal` to every process group of the session; returns how many groups it reached. */
export function signalSession(sessionId: number, signal: NodeJS.Signals): number {
  let reached = 0
  for (const pgrp of sessionProcessGroups(sessionId)) if (signalGroup(pgrp, signal)) reached++
  return reached
}

/** True while the leader's group or any other group of its session still has a process. */
export function sessionAlive(sessionId: number): boolean {
  return groupAlive(sessionId) || sessionProcessGroups(sessionId).length > 0
}
