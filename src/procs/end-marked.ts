import { markedDescendants, type MarkedProcesses } from './marker'
import { reapAdoptedChildren } from './subreaper'

export type EndMarkedOptions = {
  /** Between SIGTERM and SIGKILL: a dev server gets to flush and remove its pid file. */
  graceMs?: number
  /** How long SIGKILL is repeated (a dying parent may still fork) before giving up. */
  killMs?: number
  serverPid?: number
}

export type EndMarkedResult = { found: number; killed: number; left: number }

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name)
    return true
  } catch {
    return false // gone already
  }
}

/**
 * Ends every process of `which` that is still running: SIGTERM (and SIGCONT, so a stopped job
 * hears it), then SIGKILL for whatever is left after the grace. The process table is read again
 * on every round, so a child forked meanwhile is found too. Killed children of the server itself
 * (the adopted ones) are reaped, so no zombie stays behind. Resolves once none is left or the
 * SIGKILL rounds ran out; `left` says how many survived (in uninterruptible sleep, say).
 */
export async function endMarkedProcesses(which: MarkedProcesses, options: EndMarkedOptions = {}): Promise<EndMarkedResult> {
  const { graceMs = 1500, killMs = 3000, serverPid = process.pid } = options
  const found = new Set<number>()
  const termed = new Set<number>()
  const scan = () => {
    const pids = markedDescendants(which, serverPid)
    for (const pid of pids) found.add(pid)
    return pids
  }

  let alive = scan()
  const graceEnd = performance.now() + graceMs
  while (alive.length > 0 && performance.now() < graceEnd) {
    for (const pid of alive) {
      if (termed.has(pid)) continue
      termed.add(pid)
      if (signal(pid, 'SIGTERM')) signal(pid, 'SIGCONT')
    }
    await Bun.sleep(50)
    alive = scan()
  }

  const killed = new Set<number>()
  const killEnd = performance.now() + killMs
  while (alive.length > 0 && performance.now() < killEnd) {
    for (const pid of alive) if (signal(pid, 'SIGKILL')) killed.add(pid)
    await Bun.sleep(20)
    alive = scan()
  }
  if (found.size > 0) reapAdoptedChildren()
  return { found: found.size, killed: killed.size, left: alive.length }
}
