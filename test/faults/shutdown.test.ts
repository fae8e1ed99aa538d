/**
 * SIGTERM and SIGINT to the compiled binary while a mock task (delayMs 60 000) and a command
 * (`sleep 60`) run, with and without live terminal and events sockets: exit 0 within 5 s, the
 * sockets closed with 1001, no process left, and the task's workspace kept under STATE_DIR (it
 * survives a restart; see test/e2e/restart.test.ts).
 */
import { describe, expect, it } from 'bun:test'
import { busyServer, leftovers, signalAndWait, type BusyServer } from './shutdown-helpers'

/** If a check failed, the children the server left are stopped here (by pid) so they do not outlive the test. */
function reap(busy: BusyServer): void {
  for (const row of busy.children) {
    try {
      process.kill(row.pid, 'SIGKILL')
    } catch {
      // Already gone: what the test expects.
    }
  }
}

describe('the compiled binary, signalled with work in flight', () => {
  for (const sockets of [false, true]) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const what = sockets ? 'with two terminal sockets and an events socket open' : 'with no socket open'
      it(`${signal} ${what}: exits 0 within 5 s, leaves no process and keeps the task's workspace`, async () => {
        const busy = await busyServer({ sockets })
        await using server = busy.server
        const closes = busy.sockets.map((ws) => new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code))))
        try {
          const exit = await signalAndWait(busy, signal)
          expect(exit).not.toBeNull()
          expect(exit!.code).toBe(0)
          expect(await Promise.all(closes)).toEqual(sockets ? [1001, 1001, 1001] : [])
          const left = leftovers(busy)
          expect(left.processes).toEqual([])
          expect(left.workspaces.filter((path) => /^[0-9a-f-]{36}\/[0-9a-f-]{36}$/.test(path))).toHaveLength(1)
          await server.ended
          expect(server.stderr).not.toContain('took too long')
        } finally {
          reap(busy)
        }
      }, 30_000)
    }
  }
})
