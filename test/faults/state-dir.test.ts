/**
 * STATE_DIR that cannot be written. The tests run as root, where chmod 500 stops nothing, so the
 * directories here fail for root too: a path below a regular file (ENOTDIR), below /dev/null, and
 * inside /proc (ENOENT). Start-up stops with one line naming STATE_DIR (the binary's exit is in
 * test/e2e/state-dir.test.ts); a STATE_DIR that breaks while the server runs fails a task at once
 * with a reason naming STATE_DIR, and nothing else breaks, answers 500 or hangs.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { createServices } from '../../src/services'
import { StateError } from '../../src/store'
import { makeTestApp } from '../fixtures/app'
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
  it.each(unwritable)('%s: building the services stops with one line naming STATE_DIR and %s', (_what, stateDirOf, code) => {
    using scratch = scratchWithFile()
    const stateDir = stateDirOf(scratch.root)
    const config = loadConfig({ REPO_ALLOWLIST: scratch.root, STATE_DIR: stateDir, LOG_LEVEL: 'silent' })
    let error: unknown
    try {
      createServices(config)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StateError)
    expect((error as Error).message).toBe(`STATE_DIR: ${stateDir} is not writable (${code}); set STATE_DIR to a directory this server can write.`)
    expect(existsSync(stateDir)).toBe(false)
  })

  it('that breaks while the server runs: a task fails at once naming STATE_DIR; commands and git still work', async () => {
    await using app = await makeTestApp({ env: { CMD_ALLOWLIST: 'echo hello *' } })
    // A regular file where the workspaces directory goes: unwritable even for root.
    writeFileSync(join(app.stateDir, 'workspaces'), 'not a directory\n')

    const started = await jsonOf<TaskView>(await app.request('/api/tasks', { method: 'POST', json: { instruction: 'x' } }))
    expect(started.status).toBe(202)
    const task = await waitFor('the task to fail', async () => {
      const view = (await jsonOf<TaskView>(await app.request(`/api/tasks/${started.body.taskId}`))).body
      return view.status === 'pending' || view.status === 'running' ? undefined : view
    }, 10_000)
    expect(task.status).toBe('failed')
    expect(task.error).toBe(`STATE_DIR ${app.stateDir} is not writable (ENOTDIR); set STATE_DIR to a directory this server can write.`)

    // The task's routes answer clearly, and the rest of the server does not care.
    expect((await app.request(`/api/tasks/${started.body.taskId}/patches`)).status).toBe(200)
    const apply = await jsonOf(await app.request(`/api/tasks/${started.body.taskId}/apply`, { method: 'POST', json: {} }))
    expect([apply.status, apply.body.error]).toEqual([409, 'task_not_completed'])
    const cmd = await jsonOf<{ output: string }>(await app.request('/api/cmd?wait=true', { method: 'POST', json: { cmd: 'echo hello' } }))
    expect([cmd.status, cmd.body.output]).toEqual([200, 'hello\n'])
    expect((await app.request('/api/git/status')).status).toBe(200)
  }, 30_000)
})
