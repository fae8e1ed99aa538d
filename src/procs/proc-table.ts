import { readdirSync, readFileSync } from 'node:fs'

/** One row of Linux's process table, as /proc/<pid>/stat tells it. */
export type ProcRow = { pid: number; ppid: number; pgrp: number; session: number; state: string }

/** Every process from /proc, or null where there is no Linux /proc. */
export function readProcTable(): Map<number, ProcRow> | null {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return null
  }
  const table = new Map<number, ProcRow>()
  for (const entry of entries) {
    const first = entry.charCodeAt(0)
    if (first < 48 || first > 57) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // ended between readdir and read
    }
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so cut at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [state, ppid, pgrp, session] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])]
    if (state === undefined || !Number.isInteger(ppid) || !Number.isInteger(pgrp) || !Number.isInteger(session)) continue
    table.set(Number(entry), { pid: Number(entry), ppid, pgrp, session, state })
  }
  return table.size > 0 ? table : null
}

/** A zombie (or a process being torn down) has ended; it only waits for its parent to collect its status. */
export const isLive = (row: ProcRow): boolean => row.state !== 'Z' && row.state !== 'X'

/** Everything below `root` in the tree (children, grandchildren...), zombies included. */
export function descendantsOf(root: number, table: Map<number, ProcRow>): ProcRow[] {
  const children = new Map<number, ProcRow[]>()
  for (const row of table.values()) {
    const siblings = children.get(row.ppid)
    if (siblings) siblings.push(row)
    else children.set(row.ppid, [row])
  }
  const found: ProcRow[] = []
  const queue = [root]
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      found.push(child)
      queue.push(child.pid)
    }
  }
  return found
}

/**
 * The environment a process was started with, as `NAME=value` strings; null when it is gone or
 * not readable (another user's, or a zombie's, which is empty). It is what the process got at
 * exec: a change it made to its own environment later is not seen, a child it started is.
 */
export function environOf(pid: number): string[] | null {
  let raw: string
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'latin1')
  } catch {
    return null
  }
  return raw.length === 0 ? null : raw.split('\0')
}

/** Whether `pid` names a running process (EPERM: it runs, as another user). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}
