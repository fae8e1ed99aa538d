import { readdirSync, readFileSync } from 'node:fs'
import { groupAlive, signalGroup } from '../cmdexec/process-group'

/**
 * A PTY child is a session leader (setsid), but an interactive shell with job control puts every
 * pipeline and background job in a process group of its own, inside the same session: killing
 * the shell's group alone would leave `sleep 1000 &` or a running `tail -f` behind. So the
 * terminal's kill also signals every process group that still belongs to the terminal's session.
 * Linux only (/proc); elsewhere the shell's own group and the kernel's hangup on the closed PTY
 * are what stops them.
 */
export function sessionProcessGroups(sessionId: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  const groups = new Set<number>()
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const ids = readStatIds(entry)
    if (ids && !ids.zombie && ids.session === sessionId && ids.pgrp > 1) groups.add(ids.pgrp)
  }
  return [...groups]
}

function readStatIds(pid: string): { pgrp: number; session: number; zombie: boolean } | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    // The process ended between readdir and read.
    return undefined
  }
  // The command name is in parentheses and may contain spaces or ')': fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const pgrp = Number(fields[2])
  const session = Number(fields[3])
  if (!Number.isInteger(pgrp) || !Number.isInteger(session)) return undefined
  // A zombie has already ended; it only waits for its parent (or init) to collect its status.
  return { pgrp, session, zombie: fields[0] === 'Z' }
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
