/**
 * Defects the route fuzzer found, pinned as plain examples so they stay fixed even if the fuzzer's
 * seed or generators change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { makeTestApp, type TestApp } from '../fixtures/app'
import { jsonOf } from '../faults/support'

let app: TestApp

beforeAll(async () => {
  app = await makeTestApp()
}, 30_000)

afterAll(async () => {
  await app?.[Symbol.asyncDispose]()
}, 30_000)

describe('GET /api/git/diff base', () => {
  it('answers a base with a NUL or another control character 400 invalid_revision, not 500', async () => {
    for (const base of ['\u0000', 'x\u0000y', 'HEAD\u0001', 'main\u007f']) {
      const answer = await jsonOf(await app.request(`/api/git/diff?base=${encodeURIComponent(base)}`))
      expect([answer.status, answer.body.error]).toEqual([400, 'invalid_revision'])
    }
  }, 30_000)

  it('answers a base too long to be a file name 404 unknown_revision, not 500', async () => {
    for (const base of ['a'.repeat(256), '\u00e9'.repeat(200)]) {
      const answer = await jsonOf(await app.request(`/api/git/diff?base=${encodeURIComponent(base)}`))
      expect([answer.status, answer.body.error]).toEqual([404, 'unknown_revision'])
    }
  }, 30_000)
})
