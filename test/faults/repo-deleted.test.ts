/**
 * The session's repository deleted while the session lives: every route answers a clear 4xx (or
 * a task that ends `failed` with a reason), never a 500, never a hang, and ending the session
 * still cleans up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeTestApp, type TestApp } from '../fixtures/app'
import { rawUpgrade } from '../ws/helpers'
import { expectNoLeftovers, jsonOf, waitFor } from './support'

type Answer = { status: number; body: Record<string, unknown> }

let app: TestApp
let completedTaskId: string
let runningTaskId: string
const marker = `repo-deleted-${process.pid}-${Date.now()}`

/** A request that must be answered within 5 s: a hang fails the test instead of timing it out. */
async function ask(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const answer = await Promise.race([app.request(path, init), Bun.sleep(5000).then(() => null)])
  if (answer === null) throw new Error(`${init.method ?? 'GET'} ${path} did not answer within 5 s`)
  return jsonOf(answer)
}

async function taskStatus(id: string): Promise<Record<string, unknown>> {
  return (await ask(`/api/tasks/${id}`)).body
}

beforeAll(async () => {
  app = await makeTestApp({ env: { CMD_ALLOWLIST: 'echo hello *' } })
  const done = await ask('/api/tasks', { method: 'POST', json: { instruction: 'edit', context: { mock: { edits: [{ file: 'a.txt', content: 'a\n' }] } } } })
  completedTaskId = done.body.taskId as string
  await waitFor('the first task to complete', async () => (await taskStatus(completedTaskId)).status === 'completed')
  const running = await ask('/api/tasks', { method: 'POST', json: { instruction: marker, context: { mock: { delayMs: 600_000 } } } })
  runningTaskId = running.body.taskId as string
  await waitFor('the second task to run', async () => (await taskStatus(runningTaskId)).status === 'running')
  // A shell started before the repo goes: a later terminal must not attach to it.
  app.services.terminals.ensureShell(app.services.sessions.get(app.sessionId)!, undefined)
  rmSync(app.repo, { recursive: true, force: true })
}, 30_000)

afterAll(async () => {
  await app?.[Symbol.asyncDispose]()
}, 30_000)

function expectClientError(answer: Answer, status: number, kind: string) {
  expect([answer.status, answer.body.error]).toEqual([status, kind])
  expect(String(answer.body.message)).toContain(app.repo)
}

describe('a session whose repo was deleted', () => {
  it('answers git diff and status with 409 repo_missing naming the repo', async () => {
    expectClientError(await ask('/api/git/diff'), 409, 'repo_missing')
    expectClientError(await ask('/api/git/status'), 409, 'repo_missing')
  }, 30_000)

  it('refuses every terminal with 409 repo_missing, also while the shell from before still runs', async () => {
    const { wsUrl } = app.listen()
    const url = `${wsUrl}/ws/pty?${new URLSearchParams({ sessionId: app.sessionId, token: app.token })}`
    for (let i = 0; i < 2; i++) {
      const answer = await rawUpgrade(url)
      expect(answer.status).toBe(409)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'repo_missing' })
    }
  }, 30_000)

  it('answers a command with 409 repo_missing naming the repo, with or without a cwd', async () => {
    expectClientError(await ask('/api/cmd?wait=true', { method: 'POST', json: { cmd: 'echo hello' } }), 409, 'repo_missing')
    expectClientError(await ask('/api/cmd', { method: 'POST', json: { cmd: 'echo hello', cwd: 'src' } }), 409, 'repo_missing')
    expectClientError(await ask('/api/cmd', { method: 'POST', json: { cmd: 'echo hello', cwd: app.repo } }), 409, 'repo_missing')
  }, 30_000)

  it('still refuses commands off the allowlist with 403 before looking at the repo', async () => {
    const answer = await ask('/api/cmd', { method: 'POST', json: { cmd: 'rm -rf /' } })
    expect([answer.status, answer.body.error]).toEqual([403, 'command_not_allowed'])
  }, 30_000)

  it('accepts a new task that then fails, saying its workspace could not be made', async () => {
    const started = await ask('/api/tasks', { method: 'POST', json: { instruction: 'after the repo is gone' } })
    expect(started.status).toBe(202)
    const id = started.body.taskId as string
    const task = await waitFor('the task to fail', async () => {
      const view = await taskStatus(id)
      return view.status === 'failed' ? view : undefined
    })
    expect(String(task.error)).toContain('Could not create the task workspace')
    expect(existsSync(join(app.stateDir, 'workspaces', app.sessionId, id))).toBe(false)
  }, 30_000)

  it('still serves the saved patches of a finished task and refuses to apply them with 409 repo_missing', async () => {
    const patches = await ask(`/api/tasks/${completedTaskId}/patches`)
    expect(patches.status).toBe(200)
    expect((patches.body.patches as unknown[]).length).toBe(1)
    expectClientError(await ask(`/api/tasks/${completedTaskId}/apply`, { method: 'POST', json: {} }), 409, 'repo_missing')
    expect((await taskStatus(completedTaskId)).status).toBe('completed')
  }, 30_000)

  it('cancels the task that was running in its own workspace', async () => {
    const cancelled = await ask(`/api/tasks/${runningTaskId}/cancel`, { method: 'POST' })
    expect([cancelled.status, cancelled.body.status]).toEqual([200, 'cancelled'])
    await expectNoLeftovers([marker])
  }, 30_000)

  it('reads and ends the session, leaving no workspace behind', async () => {
    expect((await ask(`/api/session/${app.sessionId}`)).status).toBe(200)
    expect((await ask(`/api/session/${app.sessionId}`, { method: 'DELETE' })).status).toBe(200)
    expect(existsSync(join(app.stateDir, 'workspaces', app.sessionId))).toBe(false)
    await expectNoLeftovers([marker])
  }, 30_000)
})
