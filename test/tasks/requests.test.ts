import { describe, expect, it } from 'bun:test'
import { ConfigError } from '../../src/config'
import { json, makeTaskApp } from './helpers'

describe('task requests a client gets wrong', () => {
  it('answers 404 for another session’s task on every route, and for an unknown id', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'mine', context: { mock: { delayMs: 60_000 } } })
    await t.waitFor(taskId, ['running'])
    const other = await t.newSession()
    const routes: [string, string, unknown?][] = [
      ['GET', `/api/tasks/${taskId}`],
      ['GET', `/api/tasks/${taskId}/patches`],
      ['POST', `/api/tasks/${taskId}/cancel`],
      ['POST', `/api/tasks/${taskId}/apply`, {}],
    ]
    for (const [method, path, body] of routes) {
      const response = await json(await t.request(path, { method, json: body, token: other.token }))
      expect(response).toMatchObject({ status: 404, body: { error: 'task_not_found' } })
    }
    expect((await json<unknown[]>(await t.request('/api/tasks', { token: other.token }))).body).toEqual([])
    expect((await json(await t.request('/api/tasks/no-such-task'))).status).toBe(404)
    // The other session's requests did not touch the task.
    expect((await json(await t.request(`/api/tasks/${taskId}`))).body.status).toBe('running')
  })

  it('answers 401 without a token', async () => {
    await using t = await makeTaskApp()
    expect((await t.request('/api/tasks', { json: { instruction: 'x' }, token: null })).status).toBe(401)
    expect((await t.request('/api/agents', { token: null })).status).toBe(401)
  })

  it('refuses a body without an instruction, or with an empty one, as a schema error', async () => {
    await using t = await makeTaskApp()
    for (const body of [{}, { instruction: '' }, { instruction: 42 }]) {
      const { status, body: error } = await json(await t.request('/api/tasks', { json: body }))
      expect(status).toBe(422)
      expect(error.error).toBe('invalid_request')
    }
    const blank = await json(await t.request('/api/tasks', { json: { instruction: '   ' } }))
    expect(blank).toMatchObject({ status: 400, body: { error: 'invalid_instruction' } })
  })

  it('refuses a bad branch name and a bad mock spec with 400', async () => {
    await using t = await makeTaskApp()
    for (const branch of ['../etc', '-rf', 'a b', 'x.lock', 'feature/.hidden']) {
      const { status, body } = await json(await t.request('/api/tasks', { json: { instruction: 'x', branch } }))
      expect({ branch, status, error: body.error }).toEqual({ branch, status: 400, error: 'invalid_branch' })
    }
    const specs = [{ delayMs: -1 }, { edits: [{ file: '../outside', content: 'x' }] }, { edits: [{ file: '.git/config', content: 'x' }] }, { edits: 'nope' }]
    for (const mock of specs) {
      const { status, body } = await json(await t.request('/api/tasks', { json: { instruction: 'x', context: { mock } } }))
      expect({ mock, status, error: body.error }).toEqual({ mock, status: 400, error: 'invalid_mock_spec' })
    }
    expect((await json<unknown[]>(await t.request('/api/tasks'))).body).toEqual([])
  })

  it('refuses to apply a task that has not completed with 409', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'slow', context: { mock: { delayMs: 60_000 } } })
    const { status, body } = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(status).toBe(409)
    expect(body.error).toBe('task_not_completed')
  })

  it('refuses a selection naming a file or hunk the task did not produce with 400', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'one edit' })
    await t.waitFor(taskId, ['completed'])
    const selections = [[{ file: 'nope.txt' }], [{ file: 'COCKPIT_MOCK.md', hunks: [5] }], []]
    for (const select of selections) {
      const { status, body } = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: { select } }))
      expect({ select, status, error: body.error }).toEqual({ select, status: 400, error: 'invalid_selection' })
    }
    // A negative index gets the same answer as one past the end: 400 invalid_selection with the range.
    for (const hunk of [-1, 7]) {
      const { status, body } = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: { select: [{ file: 'COCKPIT_MOCK.md', hunks: [hunk] }] } }))
      expect([status, body.error]).toEqual([400, 'invalid_selection'])
      expect(String(body.message)).toContain(`has no hunk ${hunk}; use 0 to 0`)
    }
    expect((await json(await t.request(`/api/tasks/${taskId}`))).body.status).toBe('completed')
  })

  it('answers 409 when a completed task changed nothing', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'no-op', context: { mock: { edits: [] } } })
    const task = await t.waitFor(taskId, ['completed'])
    expect(task.patchCount).toBe(0)
    expect((await json<{ patches: unknown[] }>(await t.request(`/api/tasks/${taskId}/patches`))).body.patches).toEqual([])
    const { status, body } = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(status).toBe(409)
    expect(body.error).toBe('nothing_to_apply')
  })

  it('refuses more running tasks than the per-session limit with 429', async () => {
    await using t = await makeTaskApp({ tasks: { maxTasksPerSession: 1 } })
    await t.start({ instruction: 'one', context: { mock: { delayMs: 60_000 } } })
    const { status, body } = await json(await t.request('/api/tasks', { json: { instruction: 'two' } }))
    expect(status).toBe(429)
    expect(body.error).toBe('too_many_requests')
  })
})

describe('reading tasks', () => {
  it('takes a JSON body sent as a form, the way `curl -d` sends it', async () => {
    await using t = await makeTaskApp()
    const response = await t.request('/api/tasks', {
      json: { instruction: 'from curl' },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(response.status).toBe(202)
    expect(((await response.json()) as { instruction: string }).instruction).toBe('from curl')
  })

  it('serves an empty patch list while the agent has changed nothing yet', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'slow', context: { mock: { delayMs: 60_000 } } })
    await t.waitFor(taskId, ['running'])
    expect(await json(await t.request(`/api/tasks/${taskId}/patches`))).toEqual({ status: 200, body: { patches: [] } })
  })
})

describe('configuration', () => {
  it('stops start-up with a ConfigError naming DEFAULT_AGENT when it is not an agent', async () => {
    await expect(makeTaskApp({ env: { DEFAULT_AGENT: 'skynet' } })).rejects.toThrow(ConfigError)
    await expect(makeTaskApp({ env: { DEFAULT_AGENT: 'skynet' } })).rejects.toThrow(/DEFAULT_AGENT: "skynet" is not an agent; use one of mock, claude/)
  })

  it('uses DEFAULT_AGENT for a task that names no agent', async () => {
    await using t = await makeTaskApp({ env: { DEFAULT_AGENT: 'custom', AGENT_CUSTOM_CMD: 'true' } })
    const task = await t.start({ instruction: 'via the default' })
    expect(task.agent).toBe('custom')
    expect((await t.waitFor(task.taskId, ['completed', 'failed'])).status).toBe('completed')
  })
})
