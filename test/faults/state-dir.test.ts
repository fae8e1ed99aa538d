/**
 * STATE_DIR that cannot be written. The tests run as root, where chmod 500 stops nothing, so the
 * directories here fail for root too: a path below a regular file (ENOTDIR), below /dev/null, and
 * inside /proc (ENOENT). A task then fails at once with a reason naming STATE_DIR; nothing else
 * breaks, nothing answers 500, nothing hangs.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestApp } from '../fixtures/app'
import { startBinary } from '../fixtures/binary'
import { jsonOf, waitFor } from './support'

type TaskView = { taskId: string; status: string; error?: string }

/** A temp dir holding a regular file named `file-not-dir`, removed on dispose. */
function scratchWithFile() {
  const root = mkdtempSync(join(tmpdir(), 'cockpit-state-fault-'))
  writeFileSync(join(root, 'file-not-dir'), 'a file, not a directory\n')
  return { root, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) }
}

const unwritable: [what: string, stateDir: (root: string) => string, code: string][] = [
  ['below a regular file', (root) => join(root, 'file-not-dir', 'state'), 'ENOTDIR'],
  ['below /dev/null', () => '/dev/null/cockpit-state', 'ENOTDIR'],
  ['inside /proc', () => `/proc/${process.pid}/cockpit-state`, 'ENOENT'],
]

describe('a STATE_DIR that cannot be written', () => {
  it.each(unwritable)('%s: a task fails at once naming STATE_DIR and %s; commands and git still work', async (_what, stateDirOf, code) => {
    using scratch = scratchWithFile()
    const stateDir = stateDirOf(scratch.root)
    await using app = await makeTestApp({ env: { STATE_DIR: stateDir, CMD_ALLOWLIST: 'echo hello *' } })

    const started = await jsonOf<TaskView>(await app.request('/api/tasks', { method: 'POST', json: { instruction: 'x' } }))
    expect(started.status).toBe(202)
    const task = await waitFor('the task to fail', async () => {
      const view = (await jsonOf<TaskView>(await app.request(`/api/tasks/${started.body.taskId}`))).body
      return view.status === 'pending' || view.status === 'running' ? undefined : view
    }, 10_000)
    expect(task.status).toBe('failed')
    expect(task.error).toBe(`STATE_DIR ${stateDir} is not writable (${code}); set STATE_DIR to a directory this server can write.`)
    expect(existsSync(stateDir)).toBe(false)

    // The task's routes answer clearly, and the rest of the server does not care.
    expect((await app.request(`/api/tasks/${started.body.taskId}/patches`)).status).toBe(200)
    const apply = await jsonOf(await app.request(`/api/tasks/${started.body.taskId}/apply`, { method: 'POST', json: {} }))
    expect([apply.status, apply.body.error]).toEqual([409, 'task_not_completed'])
    const cmd = await jsonOf<{ output: string }>(await app.request('/api/cmd?wait=true', { method: 'POST', json: { cmd: 'echo hello' } }))
    expect([cmd.status, cmd.body.output]).toEqual([200, 'hello\n'])
    expect((await app.request('/api/git/status')).status).toBe(200)
  }, 30_000)

  it('in the compiled binary: it starts, pairs, and a task fails with the same reason', async () => {
    using scratch = scratchWithFile()
    const stateDir = join(scratch.root, 'file-not-dir', 'state')
    await using server = await startBinary({ env: { STATE_DIR: stateDir } })
    const { token } = await server.pair()
    const headers = { authorization: `Bearer ${token}` }
    const started = await jsonOf<TaskView>(await fetch(`${server.baseUrl}/api/tasks`, { method: 'POST', headers, body: JSON.stringify({ instruction: 'x' }) }))
    expect(started.status).toBe(202)
    const task = await waitFor('the task to fail', async () => {
      const view = (await jsonOf<TaskView>(await fetch(`${server.baseUrl}/api/tasks/${started.body.taskId}`, { headers }))).body
      return view.status === 'failed' ? view : undefined
    }, 10_000)
    expect(task.error).toContain('is not writable (ENOTDIR)')
  }, 30_000)
})
