import { describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CommandRunnerOptions } from '../../src/cmdexec'
import { eventually, liveProcesses } from '../cmdexec/helpers'
import { makeTestApp } from '../fixtures/app'

/** The whole app with a command runner whose allowlist and limits each test chooses. */
async function makeCmdApp(allowlist: string[], options: Partial<CommandRunnerOptions> = {}) {
  const t = await makeTestApp({
    services: { commands: { allowlist, maxTimeoutMs: 10_000, outputLimitBytes: 64 * 1024, concurrencyPerSession: 2, ...options } },
  })
  const { app } = t
  const commands = t.services.commands
  return {
    ...t,
    commands,
    request(path: string, init: { method?: string; json?: unknown; token?: string | null } = {}): Promise<Response> {
      const headers = new Headers()
      if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? t.token}`)
      if (init.json !== undefined) headers.set('content-type', 'application/json')
      const body = init.json === undefined ? undefined : JSON.stringify(init.json)
      return app.handle(new Request(`http://localhost${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body }))
    },
    async [Symbol.asyncDispose]() {
      await t[Symbol.asyncDispose]()
    },
  }
}

async function json(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('POST /api/cmd', () => {
  it('starts a command and answers 202; GET then gives the same object as ?wait=true', async () => {
    await using t = await makeCmdApp(['echo hello *'])
    const started = await json(await t.request('/api/cmd', { json: { cmd: 'echo hello from route' } }))
    expect(started.status).toBe(202)
    expect(started.body).toEqual({ ok: true, cmdId: expect.any(String), status: 'running' })
    const cmdId = started.body.cmdId as string
    const final = await t.commands.wait(t.sessionId, cmdId)
    const fetched = await json(await t.request(`/api/cmd/${cmdId}`))
    expect(fetched).toEqual({ status: 200, body: { ...final } })
    expect(fetched.body).toMatchObject({ ok: true, status: 'exited', code: 0, output: 'hello from route\n', timedOut: false, truncated: false })
  })

  it('answers 200 with the finished command when ?wait=true', async () => {
    await using t = await makeCmdApp(['ls /nowhere-at-all'])
    const { status, body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'ls /nowhere-at-all' } }))
    expect(status).toBe(200)
    expect(body).toMatchObject({ ok: false, status: 'exited', code: 2, timedOut: false, truncated: false, cmdId: expect.any(String), durationMs: expect.any(Number) })
    expect(body.output).toContain('nowhere-at-all')
  })

  it('answers 202 when wait=false', async () => {
    await using t = await makeCmdApp(['echo hello'])
    expect((await t.request('/api/cmd?wait=false', { json: { cmd: 'echo hello' } })).status).toBe(202)
  })

  it('runs in a cwd given relative or absolute inside the repo, and times out on request', async () => {
    await using t = await makeCmdApp(['pwd', 'sleep 6201'])
    mkdirSync(join(t.repo, 'pkg'))
    for (const cwd of ['pkg', join(t.repo, 'pkg')]) {
      const { body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'pwd', cwd } }))
      expect(body.output).toBe(join(t.repo, 'pkg') + '\n')
    }
    const { body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'sleep 6201', timeoutMs: 300, cwd: null } }))
    expect(body).toMatchObject({ status: 'timedOut', timedOut: true, ok: false })
    expect(liveProcesses('sleep 6201')).toEqual([])
  })

  it('ignores unknown fields: a caller cannot set the child environment', async () => {
    await using t = await makeCmdApp(['env'])
    const { status, body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'env', env: { INJECTED_VAR: 'x' }, INJECTED_TOO: 'y' } }))
    expect(status).toBe(200)
    expect(body.output).toMatch(/^PATH=/m)
    expect(body.output).not.toContain('INJECTED')
    expect(body.output).not.toContain('JWT_SECRET')
    expect(body.output).not.toContain('PAIRING_TOKEN')
  })

  it('runs shell syntax as plain arguments and creates no file', async () => {
    await using t = await makeCmdApp(['echo hello *'])
    const { body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'echo hello ; touch pwned' } }))
    expect(body.output).toBe('hello ; touch pwned\n')
    expect(existsSync(join(t.repo, 'pwned'))).toBe(false)
  })

  const refusals: [string, unknown, number, string][] = [
    ['a missing cmd', {}, 422, 'invalid_request'],
    ['no body at all', undefined, 422, 'invalid_request'],
    ['a number as cmd', { cmd: 42 }, 422, 'invalid_request'],
    ['an empty cmd', { cmd: '' }, 422, 'invalid_request'],
    ['a blank cmd', { cmd: '   ' }, 400, 'invalid_command'],
    ['a number as cwd', { cmd: 'echo hello', cwd: 5 }, 422, 'invalid_request'],
    ['a string as timeoutMs', { cmd: 'echo hello', timeoutMs: 'soon' }, 422, 'invalid_request'],
    ['a zero timeoutMs', { cmd: 'echo hello', timeoutMs: 0 }, 422, 'invalid_request'],
    ['a negative timeoutMs', { cmd: 'echo hello', timeoutMs: -1 }, 422, 'invalid_request'],
    ['an unterminated quote', { cmd: "echo 'hello" }, 400, 'invalid_command'],
    ['a newline', { cmd: 'echo hello\nid' }, 400, 'invalid_command'],
    ['a command off the allowlist', { cmd: 'rm -rf /' }, 403, 'command_not_allowed'],
    ['a chained command', { cmd: 'echo hello; id' }, 403, 'command_not_allowed'],
    ['extra arguments to an exact entry', { cmd: 'echo hello extra' }, 403, 'command_not_allowed'],
    ['a program by relative path', { cmd: './echo hello' }, 403, 'command_not_allowed'],
    ['an absolute cwd outside the repo', { cmd: 'echo hello', cwd: '/tmp' }, 403, 'path_not_allowed'],
    ['a ".." cwd', { cmd: 'echo hello', cwd: '..' }, 403, 'path_not_allowed'],
    ['a missing cwd', { cmd: 'echo hello', cwd: 'not-there' }, 400, 'invalid_cwd'],
    ['a file as cwd', { cmd: 'echo hello', cwd: 'README.md' }, 400, 'invalid_cwd'],
  ]
  for (const [what, payload, status, kind] of refusals) {
    it(`refuses ${what} with ${status} ${kind}`, async () => {
      await using t = await makeCmdApp(['echo hello'])
      const response =
        payload === undefined ? await t.request('/api/cmd', { method: 'POST' }) : await t.request('/api/cmd', { json: payload })
      const { status: got, body } = await json(response)
      expect({ got, error: body.error }).toEqual({ got: status, error: kind })
      expect(typeof body.message).toBe('string')
      expect(t.commands.runningCount).toBe(0)
    })
  }

  it('refuses a command over the concurrency limit with 429', async () => {
    await using t = await makeCmdApp(['sleep 6202'], { concurrencyPerSession: 1 })
    expect((await t.request('/api/cmd', { json: { cmd: 'sleep 6202' } })).status).toBe(202)
    const { status, body } = await json(await t.request('/api/cmd', { json: { cmd: 'sleep 6202' } }))
    expect({ status, error: body.error }).toEqual({ status: 429, error: 'too_many_requests' })
  })

  it('refuses a request without a token with 401', async () => {
    await using t = await makeCmdApp(['echo hello'])
    const { status, body } = await json(await t.request('/api/cmd', { json: { cmd: 'echo hello' }, token: null }))
    expect({ status, error: body.error }).toEqual({ status: 401, error: 'unauthorized' })
  })
})

describe('GET /api/cmd/:id and POST /api/cmd/:id/cancel', () => {
  it("answers 404 for an unknown id and for another session's command", async () => {
    await using t = await makeCmdApp(['echo hello'])
    const { body } = await json(await t.request('/api/cmd?wait=true', { json: { cmd: 'echo hello' } }))
    const other = await t.newSession()
    for (const [path, method] of [[`/api/cmd/${body.cmdId}`, 'GET'], [`/api/cmd/${body.cmdId}/cancel`, 'POST']] as const) {
      const response = await json(await t.request(path, { method, token: other.token }))
      expect({ status: response.status, error: response.body.error }).toEqual({ status: 404, error: 'command_not_found' })
    }
    const unknown = await json(await t.request('/api/cmd/not-a-command'))
    expect({ status: unknown.status, error: unknown.body.error }).toEqual({ status: 404, error: 'command_not_found' })
    expect((await t.request(`/api/cmd/${body.cmdId}`)).status).toBe(200)
  })

  it('cancels a running command: 200 with status killed and its group gone', async () => {
    await using t = await makeCmdApp(['sleep 6203'])
    const { body } = await json(await t.request('/api/cmd', { json: { cmd: 'sleep 6203' } }))
    await eventually(() => liveProcesses('sleep 6203'), (rows) => rows.length === 1)
    const cancelled = await json(await t.request(`/api/cmd/${body.cmdId}/cancel`, { method: 'POST' }))
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({ cmdId: body.cmdId, status: 'killed', ok: false, timedOut: false })
    expect(liveProcesses('sleep 6203')).toEqual([])
  })

  it('stops the commands of a session that ends', async () => {
    await using t = await makeCmdApp(['sleep 6204'])
    expect((await t.request('/api/cmd', { json: { cmd: 'sleep 6204' } })).status).toBe(202)
    await eventually(() => liveProcesses('sleep 6204'), (rows) => rows.length === 1)
    await t.services.sessions.end(t.sessionId, 'deleted')
    expect(liveProcesses('sleep 6204')).toEqual([])
    expect(t.commands.runningCount).toBe(0)
  })
})
