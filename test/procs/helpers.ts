/**
 * Escaping processes for the procs tests: a script that daemonises the way dev servers do
 * (setsid, the starter exits at once, the daemon's parent is gone), and checks on the real
 * process table.
 */
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBinary } from '../fixtures/binary'
import { jsonOf, leftoverProcesses, processTable, waitFor } from '../faults/support'

export type Binary = Awaited<ReturnType<typeof startBinary>>

/**
 * `sh daemonize.sh MARKER` starts `sh -c '<loop>' MARKER` in a session of its own and returns
 * once it runs: the daemon outlives the command, its terminal and its agent, and ignores SIGHUP and
 * SIGTERM (as a careless daemon does), so only SIGKILL stops it. The marker is the daemon's $0,
 * so `ps` shows it. Its ready file is made beside the script, in the test's own temp dir: a test
 * that ends the session as soon as the daemon runs kills the starter before it removes the file.
 */
const DAEMONIZE = `ready="$(dirname "$0")/$1.ready"
setsid sh -c 'trap "" HUP TERM; : > "$1"; while :; do sleep 1; done' "$1" "$ready" </dev/null >/dev/null 2>&1 &
# Returns once the daemon runs in its own session: a group kill of the starter can no longer reach it.
while [ ! -e "$ready" ]; do sleep 0.05; done
rm -f "$ready"
`

export function writeDaemonizer(dir: string): string {
  const path = join(dir, 'daemonize.sh')
  writeFileSync(path, DAEMONIZE)
  chmodSync(path, 0o755)
  return path
}

/** Live processes whose arguments carry `marker`. */
export const withMarker = (marker: string) => leftoverProcesses([marker])

export function waitForDaemon(marker: string): Promise<number> {
  return waitFor(`the daemon ${marker} to run`, () => withMarker(marker)[0]?.pid, 20_000)
}

/** Zombies whose parent is `pid`: what a subreaper that never waits would pile up. */
export function zombieChildren(pid: number): number[] {
  return processTable()
    .filter((row) => row.ppid === pid && row.stat.startsWith('Z'))
    .map((row) => row.pid)
}

/** SIGKILLs whatever carries `markers`, so a failing test leaves nothing running on the machine. */
export function killMarked(markers: readonly string[]): void {
  for (const row of leftoverProcesses(markers)) {
    try {
      process.kill(row.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

export async function deleteSession(server: Binary, session: { sessionId: string; token: string }): Promise<number> {
  const response = await fetch(`${server.baseUrl}/api/session/${session.sessionId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${session.token}` },
  })
  await response.arrayBuffer()
  return response.status
}

/** Runs an allowlisted command to its end (`?wait=true`) and answers its exit code. */
export async function runCommand(server: Binary, session: { token: string }, cmd: string): Promise<number | null> {
  const answer = await jsonOf<{ code: number | null }>(
    await fetch(`${server.baseUrl}/api/cmd?wait=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ cmd }),
    }),
  )
  if (answer.status !== 200) throw new Error(`${cmd}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body.code
}
