/**
 * Every status a route really answers is listed for that route in /swagger/json. Each case drives
 * one route with the input that produces one error, checks the server answers exactly that, and
 * checks the document lists it: a route that starts answering a new status fails here until its
 * `response` (or http/openapi.ts's globalStatuses) says so. The route fuzzer checks the same for
 * every answer it sees (test/fuzz/routes.fuzz.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeTestApp, TEST_PAIRING_TOKEN, type TestApp } from '../fixtures/app'
import { waitFor } from '../faults/support'

type Operation = { security?: unknown[]; parameters?: { in: string; name: string }[]; requestBody?: unknown; responses: Record<string, unknown> }
type Spec = { paths: Record<string, Record<string, Operation>> }

let t: TestApp
let spec: Spec

const BODY_LIMIT_BYTES = 4096

beforeAll(async () => {
  t = await makeTestApp({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES), CMD_ALLOWLIST: 'echo *,sleep *,no-such-program-here', CMD_CONCURRENCY: '1' } })
  spec = (await (await t.app.handle(new Request('http://localhost/swagger/json'))).json()) as Spec
})

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
})

const operations = () =>
  Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation })))

/** What a test saw, next to what the document lists for that operation. */
async function observe(app: TestApp, operation: string, response: Response) {
  const document = (await (await app.app.handle(new Request('http://localhost/swagger/json'))).json()) as Spec
  const [method, path] = operation.split(' ') as [string, string]
  const responses = document.paths[path]?.[method.toLowerCase()]?.responses
  if (!responses) throw new Error(`/swagger/json has no ${operation}`)
  const text = await response.text()
  let error: unknown
  try {
    error = (JSON.parse(text) as { error?: unknown }).error
  } catch {
    error = text.slice(0, 100)
  }
  return { operation, status: response.status, error, documented: String(response.status) in responses }
}

function expectDocumented(seen: { operation: string; status: number; error: unknown; documented: boolean }, status: number, error?: string) {
  expect({ operation: seen.operation, status: seen.status, ...(error === undefined ? {} : { error: seen.error }), documented: seen.documented }).toEqual({
    operation: seen.operation,
    status,
    ...(error === undefined ? {} : { error }),
    documented: true,
  })
}

/** A concrete URL for an OpenAPI path: every `{param}` filled in. */
const urlOf = (path: string, fill = 'unknown-id') => path.replace(/\{[^}]+\}/g, fill)

/** A socket route only matches an upgrade request; app.handle answers its refusals as HTTP. */
const UPGRADE_HEADERS = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }

const request = (app: TestApp, key: string, init: RequestInit & { json?: unknown; query?: string } = {}) => {
  const [method, path] = key.split(' ') as [string, string]
  const { query, headers, ...rest } = init
  const socket = path.startsWith('/ws/') ? UPGRADE_HEADERS : {}
  return app.request(`${urlOf(path)}${query ?? ''}`, { method, headers: { ...socket, ...(headers as Record<string, string> | undefined) }, ...rest })
}

describe('statuses every route shares', () => {
  it('lists 403 on every route, answered for a Host outside ALLOWED_HOSTS', async () => {
    for (const { key, method, path } of operations()) {
      const socket = path.startsWith('/ws/') ? UPGRADE_HEADERS : {}
      const response = await t.app.handle(new Request(`http://evil.example${urlOf(path)}`, { method, headers: { ...t.authHeaders, ...socket } }))
      expectDocumented(await observe(t, key, response), 403, 'host_not_allowed')
    }
  })

  it('lists 401 on every route that needs a token, answered without one', async () => {
    const guarded = operations().filter(({ operation }) => operation.security?.length)
    expect(guarded.length).toBeGreaterThan(10)
    for (const { key } of guarded) expectDocumented(await observe(t, key, await request(t, key, { headers: { authorization: '' } })), 401, 'unauthorized')
  })

  it('lists 400 and 413 on every POST and DELETE, answered for a body that is not JSON or is over BODY_LIMIT_BYTES', async () => {
    const withBodies = operations().filter(({ method }) => method === 'POST' || method === 'DELETE')
    expect(withBodies.length).toBeGreaterThan(6)
    for (const { key } of withBodies) {
      const pairing: Record<string, string> = key === 'POST /api/session' ? { authorization: `Bearer ${TEST_PAIRING_TOKEN}` } : {}
      expectDocumented(await observe(t, key, await request(t, key, { body: '{"unclosed', headers: pairing })), 400, 'invalid_json')
      expectDocumented(await observe(t, key, await request(t, key, { body: 'x'.repeat(BODY_LIMIT_BYTES + 1), headers: pairing })), 413, 'payload_too_large')
    }
  })

  it('lists 422 on every route with a path parameter, answered for an id over its length', async () => {
    const withIds = operations().filter(({ path }) => path.includes('{'))
    expect(withIds.length).toBeGreaterThan(6)
    for (const { key, path } of withIds) {
      const [method] = key.split(' ')
      const response = await t.request(urlOf(path, 'x'.repeat(300)), { method, ...(method === 'POST' ? { json: {} } : {}) })
      expectDocumented(await observe(t, key, response), 422, 'invalid_request')
    }
  })
})

describe('statuses of one route', () => {
  const cases: { name: string; key: string; status: number; error: string; init: RequestInit & { json?: unknown; query?: string } }[] = [
    { name: 'a repo outside REPO_ALLOWLIST', key: 'POST /api/session', status: 403, error: 'repo_not_allowed', init: { json: { repo: '/etc' } } },
    { name: 'another via', key: 'POST /api/session', status: 400, error: 'unsupported_via', init: { json: { repo: 'REPO', via: 'relay' } } },
    { name: 'no repo', key: 'POST /api/session', status: 422, error: 'invalid_request', init: { json: {} } },
    { name: 'another session', key: 'GET /api/session/{id}', status: 404, error: 'session_not_found', init: {} },
    { name: 'another session', key: 'DELETE /api/session/{id}', status: 404, error: 'session_not_found', init: {} },
    { name: 'an unknown base', key: 'GET /api/git/diff', status: 404, error: 'unknown_revision', init: { query: '?base=no-such-ref' } },
    { name: 'an empty base', key: 'GET /api/git/diff', status: 422, error: 'invalid_request', init: { query: '?base=' } },
    { name: 'a command off the allowlist', key: 'POST /api/cmd', status: 403, error: 'command_not_allowed', init: { json: { cmd: 'rm -rf /' } } },
    { name: 'a cwd outside the repo', key: 'POST /api/cmd', status: 403, error: 'path_not_allowed', init: { json: { cmd: 'echo x', cwd: '/etc' } } },
    { name: 'an allowed program not installed', key: 'POST /api/cmd', status: 400, error: 'program_not_found', init: { json: { cmd: 'no-such-program-here' } } },
    { name: 'a cwd that is a file', key: 'POST /api/cmd', status: 400, error: 'invalid_cwd', init: { json: { cmd: 'echo x', cwd: 'README.md' } } },
    { name: 'an empty cmd', key: 'POST /api/cmd', status: 422, error: 'invalid_request', init: { json: { cmd: '' } } },
    { name: 'an unknown command', key: 'GET /api/cmd/{id}', status: 404, error: 'command_not_found', init: {} },
    { name: 'an unknown command', key: 'POST /api/cmd/{id}/cancel', status: 404, error: 'command_not_found', init: {} },
    { name: 'an unknown agent', key: 'POST /api/tasks', status: 400, error: 'unknown_agent', init: { json: { instruction: 'x', agent: 'no-such-agent' } } },
    { name: 'an empty instruction', key: 'POST /api/tasks', status: 422, error: 'invalid_request', init: { json: { instruction: '' } } },
    { name: 'an unknown task', key: 'GET /api/tasks/{id}', status: 404, error: 'task_not_found', init: {} },
    { name: 'an unknown task', key: 'POST /api/tasks/{id}/cancel', status: 404, error: 'task_not_found', init: {} },
    { name: 'an unknown task', key: 'GET /api/tasks/{id}/patches', status: 404, error: 'task_not_found', init: {} },
    { name: 'an unknown task', key: 'POST /api/tasks/{id}/apply', status: 404, error: 'task_not_found', init: { json: {} } },
    { name: 'a select that is not a list', key: 'POST /api/tasks/{id}/apply', status: 422, error: 'invalid_request', init: { json: { select: 'all' } } },
    { name: 'a width that is not a number', key: 'GET /ws/pty', status: 422, error: 'invalid_request', init: { query: '?cols=wide' } },
    { name: 'a width of 0', key: 'GET /ws/pty', status: 400, error: 'bad_terminal_size', init: { query: '?cols=0&rows=24' } },
    { name: "another session's id", key: 'GET /ws/events', status: 401, error: 'unauthorized', init: { query: '?sessionId=other' } },
    { name: 'a negative resumeSeq', key: 'GET /ws/events', status: 422, error: 'invalid_request', init: { query: '?resumeSeq=-1' } },
  ]
  for (const { name, key, status, error, init } of cases) {
    it(`lists ${status} on ${key}, answered for ${name}`, async () => {
      const json = init.json && typeof init.json === 'object' && (init.json as { repo?: string }).repo === 'REPO' ? { ...(init.json as object), repo: t.repo } : init.json
      const headers = key === 'POST /api/session' ? { authorization: `Bearer ${TEST_PAIRING_TOKEN}` } : undefined
      expectDocumented(await observe(t, key, await request(t, key, { ...init, json, headers })), status, error)
    })
  }

  it('lists 400 on POST /api/session, answered for a folder without git', async () => {
    const plain = join(t.allowed, 'plain')
    mkdirSync(plain, { recursive: true })
    const response = await t.request('/api/session', { method: 'POST', json: { repo: plain }, headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` } })
    expectDocumented(await observe(t, 'POST /api/session', response), 400, 'not_a_repo')
  })

  it('lists 429 on POST /api/cmd, answered past CMD_CONCURRENCY', async () => {
    const started = await t.request('/api/cmd', { method: 'POST', json: { cmd: 'sleep 30' } })
    const { cmdId } = (await started.json()) as { cmdId: string }
    expectDocumented(await observe(t, 'POST /api/cmd', await t.request('/api/cmd', { method: 'POST', json: { cmd: 'echo x' } })), 429, 'too_many_requests')
    expect((await t.request(`/api/cmd/${cmdId}/cancel`, { method: 'POST' })).status).toBe(200)
  })

  it('lists 409 on cancelling a task that ended, and 400 on applying hunks that do not exist', async () => {
    const started = await t.request('/api/tasks', { method: 'POST', json: { instruction: 'edit', context: { mock: { edits: [{ file: 'README.md', content: '# changed\n' }] } } } })
    const { taskId } = (await started.json()) as { taskId: string }
    await waitFor('the task to complete', async () => ((await (await t.request(`/api/tasks/${taskId}`)).json()) as { status: string }).status === 'completed' || undefined)
    expectDocumented(await observe(t, 'POST /api/tasks/{id}/cancel', await t.request(`/api/tasks/${taskId}/cancel`, { method: 'POST' })), 409, 'task_finished')
    const apply = await t.request(`/api/tasks/${taskId}/apply`, { method: 'POST', json: { select: [{ file: 'README.md', hunks: [7] }] } })
    expectDocumented(await observe(t, 'POST /api/tasks/{id}/apply', apply), 400, 'invalid_selection')
  })
})

describe('statuses of a session whose repo was deleted', () => {
  it('lists 409 repo_missing on every route that reads or runs in the repo', async () => {
    await using app = await makeTestApp({ env: { CMD_ALLOWLIST: 'echo *' } })
    rmSync(app.repo, { recursive: true, force: true })
    const routes: [string, RequestInit & { json?: unknown }][] = [
      ['GET /api/git/diff', {}],
      ['GET /api/git/status', {}],
      ['POST /api/cmd', { json: { cmd: 'echo x' } }],
      ['GET /ws/pty', {}],
    ]
    for (const [key, init] of routes) expectDocumented(await observe(app, key, await request(app, key, init)), 409, 'repo_missing')
  })
})

describe('statuses of a full or closing server', () => {
  it('lists 507 on POST /api/tasks, answered when running tasks fill WORKSPACE_MAX_BYTES', async () => {
    // Below what WORKSPACE_MAX_BYTES accepts (1 MiB), so the first workspace fills it.
    await using app = await makeTestApp({ services: { tasks: { workspaceMaxBytes: 1 } } })
    const running = await app.request('/api/tasks', { method: 'POST', json: { instruction: 'hold', context: { mock: { delayMs: 60_000 } } } })
    const { taskId } = (await running.json()) as { taskId: string }
    await waitFor('the task to run', async () => ((await (await app.request(`/api/tasks/${taskId}`)).json()) as { status: string }).status === 'running' || undefined)
    expectDocumented(await observe(app, 'POST /api/tasks', await app.request('/api/tasks', { method: 'POST', json: { instruction: 'more' } })), 507, 'workspace_quota')
  })

  it('lists 503 on POST /api/cmd and GET /ws/pty, answered once commands and terminals shut down', async () => {
    // The layers' own shutdown, with the session still alive (the whole server's would end it: 401).
    await using app = await makeTestApp({ env: { CMD_ALLOWLIST: 'echo *' } })
    await app.services.commands.shutdown()
    await app.services.terminals.shutdown()
    expectDocumented(await observe(app, 'POST /api/cmd', await app.request('/api/cmd', { method: 'POST', json: { cmd: 'echo x' } })), 503, 'unavailable')
    expectDocumented(await observe(app, 'GET /ws/pty', await request(app, 'GET /ws/pty')), 503, 'shutting_down')
  })
})

describe('the check itself', () => {
  it('reports a status the document does not list as undocumented', async () => {
    const seen = await observe(t, 'GET /healthz', new Response('{"error":"teapot","message":"x"}', { status: 418 }))
    expect(seen.documented).toBe(false)
  })
})
