/**
 * Agents that misbehave: one that crashes mid-task (an exit code, a signal) and one that ignores
 * SIGTERM. Each ends in a clear task state with a reason, in bounded time, with nothing it
 * started left in the process table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { BusEvent } from '../../src/events'
import { makeTestApp, type TestApp } from '../fixtures/app'
import { writeFakeAgent, uniqueMarker, type FakeAgent } from './fake-agent'
import { expectNoLeftovers, jsonOf, leftoverProcesses, waitFor } from './support'

type TaskView = { taskId: string; status: string; exitCode?: number; error?: string }

let agent: FakeAgent
let app: TestApp
const events: BusEvent[] = []

beforeAll(async () => {
  agent = writeFakeAgent()
  app = await makeTestApp({ env: { AGENT_CUSTOM_CMD: agent.path } })
  app.services.events.forSession(app.sessionId).subscribe((event) => events.push(event))
}, 30_000)

afterAll(async () => {
  await app?.[Symbol.asyncDispose]()
  agent?.[Symbol.dispose]()
}, 30_000)

async function startTask(instruction: string): Promise<string> {
  const answer = await jsonOf<TaskView>(await app.request('/api/tasks', { method: 'POST', json: { instruction, agent: 'custom' } }))
  expect(answer.status).toBe(202)
  return answer.body.taskId
}

async function task(id: string): Promise<TaskView> {
  return (await jsonOf<TaskView>(await app.request(`/api/tasks/${id}`))).body
}

async function ended(id: string): Promise<TaskView> {
  return waitFor(`task ${id} to end`, async () => {
    const view = await task(id)
    return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined
  })
}

describe('an agent that crashes mid-task', () => {
  it('fails the task with its exit code and last words, and leaves no child behind', async () => {
    const marker = uniqueMarker('crash-exit')
    const id = await startTask(`crash-exit ${marker}`)
    const view = await ended(id)
    expect(view.status).toBe('failed')
    expect(view.exitCode).toBe(3)
    expect(view.error).toBe('Agent custom exited with code 3: fatal: the model ran out of tokens')
    const own = events.filter((event) => 'taskId' in event && event.taskId === id)
    expect(own.find((event) => event.type === 'exit')).toMatchObject({ code: 3 })
    expect(own.find((event) => event.type === 'error')).toMatchObject({ message: view.error })
    expect(own.filter((event) => event.type === 'status').at(-1)).toMatchObject({ status: 'failed' })
    // The background `sleep 300` it left went with its terminal's session.
    await expectNoLeftovers([marker])
  }, 30_000)

  it('fails the task naming the signal when the agent dies of one', async () => {
    const marker = uniqueMarker('crash-signal')
    const id = await startTask(`crash-signal ${marker}`)
    const view = await ended(id)
    expect(view.status).toBe('failed')
    expect(view.exitCode).toBeUndefined()
    expect(view.error).toBe('Agent custom was killed by SIGSEGV: about to crash')
    await expectNoLeftovers([marker])
  }, 30_000)
})

describe('an agent that ignores SIGTERM', () => {
  it('is cancelled within 3 s by escalating to SIGKILL, children included', async () => {
    const marker = uniqueMarker('ignore-term')
    const id = await startTask(`ignore-term ${marker}`)
    await waitFor('the agent and its child to run', () => leftoverProcesses([`${marker}-child`]).length > 0 && leftoverProcesses([marker]).length >= 2)
    expect((await task(id)).status).toBe('running')

    const started = performance.now()
    const answer = await jsonOf<TaskView>(await app.request(`/api/tasks/${id}/cancel`, { method: 'POST' }))
    const elapsed = performance.now() - started
    expect([answer.status, answer.body.status]).toEqual([200, 'cancelled'])
    expect(answer.body.error).toBe('Cancelled by request.')
    expect(elapsed).toBeLessThan(3000)
    // The answer comes once the whole tree is gone: nothing to wait for.
    await expectNoLeftovers([marker], [], 0)
  }, 30_000)
})
