/**
 * Processes that escape their process group and session (setsid, the starter exits: what a
 * daemonising dev server does) are still ended with the session that started them, whether a
 * command, a terminal or an agent started them: the compiled binary is a child subreaper, so
 * they stay its descendants, and each carries its session's marker in its environment.
 * Checked on the process table, not on the server's bookkeeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { uniqueMarker } from '../faults/fake-agent'
import { expectNoLeftovers, jsonOf, waitFor } from '../faults/support'
import { startBinary } from '../fixtures/binary'
import { deleteSession, killMarked, runCommand, waitForDaemon, withMarker, writeDaemonizer, zombieChildren, type Binary } from './helpers'

/** Session end: the layers' own grace (2 s), the escaped processes' SIGTERM grace and SIGKILL; generous for a busy machine. */
const GONE_WITHIN_MS = 15_000

let server: Binary
let daemonizer: string
let daemonizerDir: string | undefined
const markers: string[] = []
const marker = (what: string) => {
  const made = uniqueMarker(what)
  markers.push(made)
  return made
}

beforeAll(async () => {
  const { mkdtempSync, realpathSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  daemonizerDir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-procs-')))
  daemonizer = writeDaemonizer(daemonizerDir)
  server = await startBinary({
    env: {
      CMD_ALLOWLIST: `sh ${daemonizer} *`,
      AGENT_CUSTOM_CMD: `sh ${daemonizer} {instruction}`,
      SHELL: '/bin/sh',
    },
  })
}, 60_000)

afterAll(async () => {
  killMarked(markers)
  await server?.[Symbol.asyncDispose]()
  if (daemonizerDir) (await import('node:fs')).rmSync(daemonizerDir, { recursive: true, force: true })
}, 15_000)

describe('a process that escapes with setsid', () => {
  it('is killed when the session of the command that started it is deleted', async () => {
    const session = await server.pair()
    const daemon = marker('cmd-daemon')
    expect(await runCommand(server, session, `sh ${daemonizer} ${daemon}`)).toBe(0)
    await waitForDaemon(daemon)
    expect(await deleteSession(server, session)).toBe(200)
    await expectNoLeftovers([daemon], [], GONE_WITHIN_MS)
  }, 60_000)

  it('is killed when the session of the terminal that started it is deleted', async () => {
    const session = await server.pair()
    const daemon = marker('pty-daemon')
    const ws = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/ws/pty?sessionId=${session.sessionId}&token=${session.token}`)
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve)
      ws.addEventListener('error', () => reject(new Error('/ws/pty did not open')))
    })
    ws.send(`sh ${daemonizer} ${daemon}\r`)
    await waitForDaemon(daemon)
    expect(await deleteSession(server, session)).toBe(200)
    await expectNoLeftovers([daemon], [], GONE_WITHIN_MS)
    ws.close()
  }, 60_000)

  it('is killed when the session of the agent that started it is deleted, though the agent had finished', async () => {
    const session = await server.pair()
    const daemon = marker('agent-daemon')
    const headers = { authorization: `Bearer ${session.token}` }
    const task = await jsonOf<{ taskId: string }>(
      await fetch(`${server.baseUrl}/api/tasks`, { method: 'POST', headers, body: JSON.stringify({ instruction: daemon, agent: 'custom' }) }),
    )
    expect(task.status).toBe(202)
    const final = await waitFor(
      'the agent to finish',
      async () => {
        const view = await jsonOf<{ status: string }>(await fetch(`${server.baseUrl}/api/tasks/${task.body.taskId}`, { headers }))
        return ['completed', 'failed', 'cancelled'].includes(view.body.status) ? view.body.status : undefined
      },
      30_000,
    )
    expect(final).toBe('completed')
    await waitForDaemon(daemon)
    expect(await deleteSession(server, session)).toBe(200)
    await expectNoLeftovers([daemon], [], GONE_WITHIN_MS)
  }, 60_000)

  it("spares another session's processes and a process that only claims the session's marker", async () => {
    const ending = await server.pair()
    const other = await server.pair()
    const endingDaemon = marker('ending-daemon')
    const otherDaemon = marker('other-daemon')
    const impostor = marker('impostor')
    expect(await runCommand(server, ending, `sh ${daemonizer} ${endingDaemon}`)).toBe(0)
    expect(await runCommand(server, other, `sh ${daemonizer} ${otherDaemon}`)).toBe(0)
    await waitForDaemon(endingDaemon)
    await waitForDaemon(otherDaemon)
    // Not the server's descendant, yet its environment names the ending session and this server.
    const spoof = Bun.spawn(['sh', '-c', 'while :; do sleep 1; done', impostor], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', COCKPIT_SESSION: ending.sessionId, COCKPIT_SERVER: String(server.proc.pid) },
      stdio: ['ignore', 'ignore', 'ignore'],
    })
    try {
      expect(await deleteSession(server, ending)).toBe(200)
      await expectNoLeftovers([endingDaemon], [], GONE_WITHIN_MS)
      expect(withMarker(otherDaemon)).toHaveLength(1)
      expect(withMarker(impostor).map((row) => row.pid)).toEqual([spoof.pid])
    } finally {
      spoof.kill('SIGKILL')
    }
    expect(await deleteSession(server, other)).toBe(200)
    await expectNoLeftovers([otherDaemon], [], GONE_WITHIN_MS)
  }, 60_000)

  it('leaves no zombie behind once the server has adopted and killed it', async () => {
    await waitFor('the server to have no zombie child', () => zombieChildren(server.proc.pid).length === 0, 10_000)
    expect(zombieChildren(server.proc.pid)).toEqual([])
  })
})

describe('shutdown with a process that escaped with setsid', () => {
  it('SIGTERM to the binary kills it before the binary exits', async () => {
    await using own = await startBinary({ env: { CMD_ALLOWLIST: `sh ${daemonizer} *`, SHELL: '/bin/sh' } })
    const session = await own.pair()
    const daemon = marker('shutdown-daemon')
    try {
      expect(await runCommand(own, session, `sh ${daemonizer} ${daemon}`)).toBe(0)
      await waitForDaemon(daemon)
      own.proc.kill('SIGTERM')
      expect(await own.proc.exited).toBe(0)
      // Gone by the time the binary has exited: nothing is left to kill it later.
      expect(withMarker(daemon)).toEqual([])
    } finally {
      killMarked([daemon])
    }
  }, 60_000)
})
