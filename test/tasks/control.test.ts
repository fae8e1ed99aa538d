import { describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { groupAlive } from '../../src/cmdexec/process-group'
import { TaskService } from '../../src/tasks'
import { gitCli } from '../fixtures/app'
import { eventually, json, makeTaskApp, processesWith } from './helpers'

describe('cancelling, failing and timing out', () => {
  it('cancels a long print-mode mock task within 3 s and leaves no process of it', async () => {
    await using t = await makeTaskApp({ env: { AGENT_MOCK_MODE: 'print' } })
    const marker = `long-task-${crypto.randomUUID()}`
    const { taskId } = await t.start({ instruction: marker, context: { mock: { delayMs: 60_000 } } })
    await t.waitFor(taskId, ['running'])
    const pids = await eventually(() => processesWith(marker), (found) => found.length > 0)
    expect(pids.length).toBeGreaterThan(0)
    const leader = t.tasks.terminalFor(t.sessionId, taskId)!.pid

    const began = performance.now()
    const cancelled = await json(await t.request(`/api/tasks/${taskId}/cancel`, { method: 'POST' }))
    expect(performance.now() - began).toBeLessThan(3000)
    expect(cancelled).toMatchObject({ status: 200, body: { taskId, status: 'cancelled' } })
    expect(processesWith(marker)).toEqual([])
    expect(groupAlive(leader)).toBe(false)
    expect((await json(await t.request(`/api/tasks/${taskId}`))).body.status).toBe('cancelled')
    const exit = t.events.find((e) => e.type === 'exit' && e.taskId === taskId)
    expect(exit).toMatchObject({ code: null })
  })

  it('refuses to cancel a task that has ended with 409', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'quick' })
    await t.waitFor(taskId, ['completed'])
    const { status, body } = await json(await t.request(`/api/tasks/${taskId}/cancel`, { method: 'POST' }))
    expect(status).toBe(409)
    expect(body.error).toBe('task_finished')
  })

  it('ends failed with the agent message when the print-mode mock is told to fail, and refuses to apply it', async () => {
    await using t = await makeTaskApp({ env: { AGENT_MOCK_MODE: 'print' } })
    const { taskId } = await t.start({ instruction: 'doomed', context: { mock: { fail: true, output: 'the tests did not pass' } } })
    const task = await t.waitFor(taskId, ['failed', 'completed'])
    expect(task.status).toBe('failed')
    expect(task.exitCode).toBe(1)
    expect(task.error).toContain('the tests did not pass')
    const errorEvent = t.events.find((e) => e.type === 'error' && e.taskId === taskId)
    expect(errorEvent).toMatchObject({ message: task.error! })
    const apply = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(apply).toMatchObject({ status: 409, body: { error: 'task_not_completed' } })
  })

  it('stops an agent that outlives the task timeout and fails the task saying so', async () => {
    await using t = await makeTaskApp({ tasks: { taskTimeoutMs: 400 } })
    const marker = `slow-${crypto.randomUUID()}`
    const { taskId } = await t.start({ instruction: marker, context: { mock: { delayMs: 60_000 } } })
    const task = await t.waitFor(taskId, ['failed', 'completed', 'cancelled'], 8000)
    expect(task.status).toBe('failed')
    expect(task.error).toContain('task timeout')
    expect(processesWith(marker)).toEqual([])
  })

  it('fails the task with a clear error when STATE_DIR cannot be written', async () => {
    await using t = await makeTaskApp()
    // A regular file where a directory should be: unwritable even for root.
    const blocker = join(t.root, 'not-a-directory')
    writeFileSync(blocker, 'x')
    await using broken = await makeTaskApp({ tasks: { stateDir: join(blocker, 'state') } })
    const { taskId } = await broken.start({ instruction: 'nowhere to work' })
    const task = await broken.waitFor(taskId, ['failed', 'completed'])
    expect(task.status).toBe('failed')
    expect(task.error).toContain('STATE_DIR')
    expect(task.error).toContain('not writable')
    expect(task.exitCode).toBeUndefined()
  })
})

describe('workspaces on disk', () => {
  it('fails a task whose workspace would land inside the session repo, leaving the repo untouched', async () => {
    await using t = await makeTaskApp()
    const tasks = new TaskService({
      stateDir: join(t.repo, '.cockpit-state'),
      events: t.services.events,
      agents: t.agents,
      defaultAgent: 'mock',
      taskTimeoutMs: 10_000,
      scrollbackBytes: 4096,
      workspaceMaxBytes: 1024 * 1024,
      environment: t.config.environment,
    })
    const { taskId } = await tasks.create(t.session, { instruction: 'in the repo' })
    const task = await eventually(() => tasks.get(t.session, taskId), (view) => view.status === 'failed' || view.status === 'completed')
    expect(task.status).toBe('failed')
    expect(task.error).toContain('inside the session repo')
    expect(gitCli(t.repo, 'status', '--porcelain', '--ignored')).toBe('')
    await tasks.shutdown()
  })

  it('evicts finished workspaces past WORKSPACE_MAX_BYTES and refuses a task with 507 when running ones fill it', async () => {
    await using t = await makeTaskApp({ tasks: { workspaceMaxBytes: 1 } })
    const first = await t.start({ instruction: 'first' })
    await t.waitFor(first.taskId, ['completed'])
    expect(existsSync(t.workspaceOf(first.taskId))).toBe(true)

    const second = await t.start({ instruction: 'second', context: { mock: { delayMs: 60_000 } } })
    expect(existsSync(t.workspaceOf(first.taskId))).toBe(false)
    // The evicted task's patches were saved when it ended.
    expect((await json<{ patches: unknown[] }>(await t.request(`/api/tasks/${first.taskId}/patches`))).body.patches).toHaveLength(1)
    await t.waitFor(second.taskId, ['running'])

    const refused = await json(await t.request('/api/tasks', { json: { instruction: 'third' } }))
    expect(refused).toMatchObject({ status: 507, body: { error: 'workspace_quota' } })
    expect(refused.body.message).toContain('WORKSPACE_MAX_BYTES')
  })

  it('removes workspaces of sessions that no longer exist once tasks start', async () => {
    await using t = await makeTaskApp()
    const leftover = join(t.config.stateDir, 'workspaces', crypto.randomUUID(), crypto.randomUUID())
    mkdirSync(leftover, { recursive: true })
    writeFileSync(join(leftover, 'big.bin'), 'x'.repeat(1024))
    const { taskId } = await t.start({ instruction: 'sweep' })
    await t.waitFor(taskId, ['completed'])
    expect(await eventually(() => existsSync(leftover), (exists) => !exists)).toBe(false)
    expect(existsSync(t.workspaceOf(taskId))).toBe(true)
  })

  it('removes the workspace and kills the running agent when the session ends', async () => {
    await using t = await makeTaskApp()
    const marker = `session-end-${crypto.randomUUID()}`
    const { taskId } = await t.start({ instruction: marker, context: { mock: { delayMs: 60_000 } } })
    await t.waitFor(taskId, ['running'])
    expect(existsSync(t.workspaceOf(taskId))).toBe(true)
    // `running` comes once the process exists; its command line names the marker once it has
    // exec'd, which a loaded machine may not have done yet.
    expect((await eventually(() => processesWith(marker), (found) => found.length > 0)).length).toBeGreaterThan(0)

    await t.services.sessions.end(t.sessionId, 'deleted')
    expect(processesWith(marker)).toEqual([])
    expect(existsSync(join(t.config.stateDir, 'workspaces', t.sessionId))).toBe(false)
    expect(t.tasks.list(t.sessionId)).toEqual([])
  })
})
