/**
 * Route fuzzer: walks the app's own /swagger/json and sends every operation thousands of broken
 * requests (seeded, so a failure replays). Invariants: never a 5xx, every error is JSON
 * `{error, message}`, every status is one the document lists for that route, a bad credential
 * never reaches a handler, and nothing is written outside STATE_DIR: not the sentinel directory
 * next to the repo, not the repo itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { gitCli } from '../fixtures/app'
import { jsonOf } from '../faults/support'
import { Prng } from './prng'
import { buildRequest, operationsOf, type FuzzRequest, type Pools } from './requests'
import { diffSnapshots, snapshotTree } from './snapshot'
import { makeFuzzTarget, type FuzzTarget } from './target'
import { pairingCredentials, sessionCredentials } from './tokens'

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_601)
const TOTAL_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 5200)
const CONCURRENCY = 8

/** What a request with a bad credential may be answered before auth runs: never a handler's answer. */
const PRE_AUTH = new Set(['401 unauthorized', '400 invalid_json', '400 too_deep', '413 payload_too_large', '422 invalid_request', '404 not_found'])

let target: FuzzTarget

beforeAll(async () => {
  target = await makeFuzzTarget()
}, 60_000)

afterAll(async () => {
  await target?.app[Symbol.asyncDispose]()
}, 30_000)

function describeRequest(index: number, request: FuzzRequest): string {
  const body = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : `<${request.body.byteLength} bytes>`
  return `#${index} ${request.label} ${request.url.slice(0, 200)} body=${body.slice(0, 200)}`
}

/** The invariants every answer must hold; returns what is wrong, or null. */
async function violation(request: FuzzRequest, response: Response): Promise<string | null> {
  if (response.status >= 500) return `status ${response.status}: ${(await response.text()).slice(0, 300)}`
  if (request.method === 'HEAD' || response.status === 204) return null
  const text = await response.text()
  // A request with the operation's own method to one of its URLs. A path trick can leave the
  // route (`/api/tasks/..`): that answer is the unknown route's 404 not_found, not the operation's.
  const routeAnswered = request.method === request.operation.method && !(response.status === 404 && text.includes('"not_found"'))
  if (routeAnswered && !request.operation.statuses.includes(String(response.status))) {
    return `status ${response.status} is not listed for ${request.operation.method} ${request.operation.path} in /swagger/json: ${text.slice(0, 200)}`
  }
  if (response.status < 400) return null
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return `error ${response.status} is not JSON: ${text.slice(0, 200)}`
  }
  const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown }
  if (typeof error !== 'string' || typeof message !== 'string' || error === '' || message === '') {
    return `error ${response.status} is not {error, message}: ${text.slice(0, 200)}`
  }
  if (response.status === 401 && response.headers.get('www-authenticate') !== 'Bearer') return '401 without WWW-Authenticate: Bearer'
  const spec = request.method === request.operation.method
  if (spec && request.operation.auth !== 'none' && request.credential && !request.credential.valid && !PRE_AUTH.has(`${response.status} ${error}`)) {
    return `a bad credential reached the handler: ${response.status} ${error}`
  }
  return null
}

describe('route fuzzer', () => {
  it(`answers ${TOTAL_REQUESTS}+ hostile requests to every documented route without a 5xx or a write outside STATE_DIR`, async () => {
    const { app, sentinel } = target
    const spec = await jsonOf<Parameters<typeof operationsOf>[0]>(await app.request('/swagger/json'))
    const operations = operationsOf(spec.body)
    expect(operations.length).toBeGreaterThanOrEqual(16)

    const pools: Pools = {
      repo: app.repo,
      allowed: app.allowed,
      sentinel,
      ids: {
        task: [target.completedTaskId, ...target.blockerTaskIds, target.otherSession.taskId],
        taskNoCancel: [target.completedTaskId, target.otherSession.taskId],
        cmd: [...target.cmdIds, target.otherSession.cmdId],
        sessionGet: [app.sessionId, target.otherSession.sessionId],
        sessionDelete: [target.otherSession.sessionId],
      },
      patchFiles: ['src/app.txt', 'added.txt'],
      sessionCredentials: await sessionCredentials(app.sessionId, app.token, target.deletedSessionToken),
      pairingCredentials: pairingCredentials(app.token),
    }

    // Every apply of the completed task must conflict, so no fuzzed request may legitimately write the repo.
    const applyAll = await jsonOf(await app.request(`/api/tasks/${target.completedTaskId}/apply`, { method: 'POST', json: {} }))
    expect(applyAll.status).toBe(409)

    const head = gitCli(app.repo, 'rev-parse', 'HEAD')
    const watched = snapshotTree(app.root, [app.stateDir])

    const failures: string[] = []
    const statuses = new Map<number, number>()
    let sent = 0
    let huge = 0
    const next = { index: 0 }
    const worker = async () => {
      for (;;) {
        const index = next.index++
        if (index >= TOTAL_REQUESTS) return
        const rng = new Prng(SEED * 7919 + index)
        const request = buildRequest(rng, pools, rng.pick(operations))
        const response = await app.app.handle(new Request(request.url, { method: request.method, headers: request.headers, body: request.body }))
        sent++
        if (request.body !== undefined && (typeof request.body === 'string' ? request.body.length : request.body.byteLength) >= 900_000) huge++
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        const problem = await violation(request, response)
        if (problem) failures.push(`${describeRequest(index, request)}\n    -> ${problem}`)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))

    const histogram = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}:${count}`)
    console.log(`fuzz: ${sent} requests over ${operations.length} operations (seed ${SEED}), ${huge} of them about 1 MB or more; statuses ${histogram.join(' ')}`)
    expect(failures.slice(0, 20)).toEqual([])
    expect(sent).toBeGreaterThanOrEqual(5000)

    // Nothing outside STATE_DIR changed: the sentinel, the repo's files and all of its .git, index included.
    expect(diffSnapshots(watched, snapshotTree(app.root, [app.stateDir]))).toEqual([])
    expect(gitCli(app.repo, 'rev-parse', 'HEAD')).toBe(head)
    expect(gitCli(app.repo, 'status', '--porcelain', '--ignored')).toBe('')

    // Still serving, and the long-running tasks were neither lost nor disturbed.
    expect((await app.app.handle(new Request('http://localhost/healthz'))).status).toBe(200)
    for (const id of target.blockerTaskIds) {
      const task = await jsonOf<{ status: string }>(await app.request(`/api/tasks/${id}`))
      expect(task.body.status).toBe('running')
    }
  }, 120_000)
})
