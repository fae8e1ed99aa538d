/**
 * When a task's workspace goes (CONTRACT.md, What survives a restart): when the task is applied
 * or cancelled, its session is deleted or expires, DELETE /api/tasks/{id} is called, or
 * WORKSPACE_RETENTION_DAYS after the task ended (a clock the test moves); never because the
 * server restarted; and the disk quota counts the workspaces kept from before a restart.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createServices } from '../../src/services'
import type { TaskView } from '../../src/tasks'
import { makeTestApp, type TestApp } from '../fixtures/app'

const DAY = 86_400_000

async function startTask(app: TestApp, json: Record<string, unknown>): Promise<string> {
  const response = await app.request('/api/tasks', { method: 'POST', json })
  if (response.status !== 202) throw new Error(`POST /api/tasks: ${response.status} ${await response.text()}`)
  return ((await response.json()) as TaskView).taskId
}

async function waitStatus(app: TestApp, taskId: string, statuses: string[]): Promise<TaskView> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const view = (await (await app.request(`/api/tasks/${taskId}`)).json()) as TaskView
    if (statuses.includes(view.status)) return view
    if (Date.now() > deadline) throw new Error(`task ${taskId} is still ${view.status}`)
    await Bun.sleep(25)
  }
}

const workspaceOf = (app: TestApp, taskId: string) => join(app.stateDir, 'workspaces', app.sessionId, taskId)

describe('task workspaces', () => {
  it('are removed WORKSPACE_RETENTION_DAYS after their task ended, keeping the record and its patches', async () => {
    await using app = await makeTestApp({ env: { WORKSPACE_RETENTION_DAYS: '7' } })
    const taskId = await startTask(app, { instruction: 'edit' })
    const task = await waitStatus(app, taskId, ['completed'])
    const ended = Date.parse(task.endedAt!)
    expect(await app.services.tasks.sweepRetention(new Date(ended + 7 * DAY - 60_000))).toBe(0)
    expect(existsSync(workspaceOf(app, taskId))).toBe(true)
    expect(await app.services.tasks.sweepRetention(new Date(ended + 7 * DAY + 60_000))).toBe(1)
    expect(existsSync(workspaceOf(app, taskId))).toBe(false)
    expect(((await (await app.request(`/api/tasks/${taskId}`)).json()) as TaskView).status).toBe('completed')
    expect(((await (await app.request(`/api/tasks/${taskId}/patches`)).json()) as { patches: unknown[] }).patches).toHaveLength(1)
  })

  it('is removed when its task is cancelled; the saved patches stay readable', async () => {
    await using app = await makeTestApp()
    const taskId = await startTask(app, { instruction: 'wait', context: { mock: { delayMs: 60_000 } } })
    await waitStatus(app, taskId, ['running'])
    expect(existsSync(workspaceOf(app, taskId))).toBe(true)
    expect((await app.request(`/api/tasks/${taskId}/cancel`, { method: 'POST' })).status).toBe(200)
    const deadline = Date.now() + 10_000
    while (existsSync(workspaceOf(app, taskId)) && Date.now() < deadline) await Bun.sleep(25)
    expect(existsSync(workspaceOf(app, taskId))).toBe(false)
    expect((await app.request(`/api/tasks/${taskId}/patches`)).status).toBe(200)
  })

  it('DELETE /api/tasks/{id} stops a running task and removes it and its workspace; 404 afterwards and for another session', async () => {
    await using app = await makeTestApp()
    const taskId = await startTask(app, { instruction: 'wait', context: { mock: { delayMs: 60_000 } } })
    await waitStatus(app, taskId, ['running'])
    const other = await app.newSession()
    const foreign = await app.request(`/api/tasks/${taskId}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.token}` } })
    expect([foreign.status, ((await foreign.json()) as { error: string }).error]).toEqual([404, 'task_not_found'])
    const deleted = await app.request(`/api/tasks/${taskId}`, { method: 'DELETE' })
    expect([deleted.status, await deleted.json()]).toEqual([200, { ok: true, taskId }])
    expect(existsSync(workspaceOf(app, taskId))).toBe(false)
    expect((await app.request(`/api/tasks/${taskId}`)).status).toBe(404)
    expect((await app.request(`/api/tasks/${taskId}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('go with their session when it expires', async () => {
    await using app = await makeTestApp()
    const taskId = await startTask(app, { instruction: 'edit' })
    await waitStatus(app, taskId, ['completed'])
    expect(await app.services.sessions.sweep(new Date(Date.now() + 2 * DAY))).toBeGreaterThanOrEqual(1)
    expect(existsSync(join(app.stateDir, 'workspaces', app.sessionId))).toBe(false)
    expect(app.services.state.tasks.get(taskId)).toBeUndefined()
  })

  it('survive a restart, and the disk quota counts them afterwards', async () => {
    // A 2 MiB file in the repo makes every workspace bigger than the 1 MiB quota.
    await using app = await makeTestApp({ repoFiles: { 'README.md': '# x\n', 'big.bin': 'x'.repeat(2 * 1024 * 1024) } })
    const taskId = await startTask(app, { instruction: 'edit' })
    await waitStatus(app, taskId, ['completed'])
    await app.services.shutdown()
    expect(existsSync(workspaceOf(app, taskId))).toBe(true)

    const config = Object.freeze({ ...app.config, workspaceMaxBytes: 1024 * 1024 })
    const restarted = createServices(config)
    try {
      await restarted.tasks.measureKeptWorkspaces()
      const session = restarted.sessions.get(app.sessionId)!
      expect(restarted.tasks.get(session, taskId).status).toBe('completed')
      expect(existsSync(workspaceOf(app, taskId))).toBe(true)
      // Over the quota with what was kept: the finished workspace is evicted for the new task.
      const next = await restarted.tasks.create(session, { instruction: 'next', context: { mock: { delayMs: 60_000 } } })
      expect(existsSync(workspaceOf(app, taskId))).toBe(false)
      expect(next.status).toBe('pending')
    } finally {
      await restarted.shutdown()
    }
  })
})
