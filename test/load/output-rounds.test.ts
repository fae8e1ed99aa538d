/**
 * Rounds of output-heavy agent tasks against the compiled binary: each round pairs sessions, runs
 * tasks whose agent prints 4 MB, then deletes the sessions. What the output passed through must be
 * released with its sessions: RSS after each round stays within 100 MB of idle and does not grow
 * from round to round. (Before the server collected after session ends, one round of 50 such
 * tasks left 488 MB where idle was 48 MB; a heap snapshot then held 9 MB of live objects.)
 */
import { describe, expect, it } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BINARY_PAIRING_TOKEN, startBinary } from '../fixtures/binary'
import { rssKiB, waitFor } from '../faults/support'

const ROUNDS = 3
const SESSIONS = 4
const TASKS_PER_ROUND = 12
const BYTES_PER_TASK = 4_000_000
const ABOVE_IDLE_KIB = 100 * 1024
/** Measured: rounds ended within 2 MB of each other; a leak of what a round printed (48 MB) would show. */
const GROWTH_KIB = 24 * 1024

type Session = { sessionId: string; token: string }

function tempDir() {
  const path = mkdtempSync(join(tmpdir(), 'cockpit-flood-agent-'))
  return { path, async [Symbol.asyncDispose]() { rmSync(path, { recursive: true, force: true }) } }
}

describe('output rounds', () => {
  it(`${ROUNDS} rounds of ${TASKS_PER_ROUND} agents printing 4 MB each, sessions deleted after each, leave RSS near idle`, async () => {
    // The agent: prints BYTES_PER_TASK of base64 lines and edits one file.
    await using agentDir = tempDir()
    const agent = join(agentDir.path, 'flood-agent.sh')
    writeFileSync(agent, `#!/bin/sh\nhead -c ${(BYTES_PER_TASK * 3) / 4} /dev/urandom | base64 -w 120\necho "$1" > flood-output.txt\n`)
    chmodSync(agent, 0o755)
    await using flood = await startBinary({ env: { AGENT_CUSTOM_CMD: agent } })
    const pid = flood.proc.pid
    const call = async (session: Session | null, path: string, init: RequestInit = {}) => {
      const token = session?.token ?? BINARY_PAIRING_TOKEN
      const response = await fetch(`${flood.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    await Bun.sleep(1000)
    const idle = rssKiB(pid)
    const after: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const sessions: Session[] = []
      for (let i = 0; i < SESSIONS; i++) {
        const paired = await call(null, '/api/session', { method: 'POST', body: JSON.stringify({ repo: flood.repo }) })
        expect(paired.status).toBe(201)
        sessions.push(paired.body as unknown as Session)
      }
      let next = 0
      const lane = async (session: Session) => {
        while (next < TASKS_PER_ROUND) {
          const n = next++
          const accepted = await call(session, '/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: `round ${round} task ${n}`, agent: 'custom' }) })
          expect(accepted.status).toBe(202)
          const status = await waitFor(`task ${n} to end`, async () => {
            const view = await call(session, `/api/tasks/${accepted.body.taskId}`)
            return ['pending', 'running'].includes(String(view.body.status)) ? undefined : `${view.body.status}${view.body.error ? `: ${view.body.error}` : ''}`
          }, 60_000, 100)
          expect(status).toBe('completed')
        }
      }
      // Three lanes per session (a session runs up to 4 tasks at once): an agent's output is taken
      // at most 1 Mi characters a second, so each task takes about 4 s whatever the machine.
      await Promise.all(sessions.flatMap((session) => [session, session, session]).map(lane))
      for (const session of sessions) expect((await call(session, `/api/session/${session.sessionId}`, { method: 'DELETE' })).status).toBe(200)
      // The server collects a second after sessions end; give it that and some.
      await Bun.sleep(3000)
      after.push(rssKiB(pid))
    }
    for (const kib of after) expect(kib - idle).toBeLessThan(ABOVE_IDLE_KIB)
    expect(after[ROUNDS - 1]! - after[0]!).toBeLessThan(GROWTH_KIB)
  }, 240_000)
})
