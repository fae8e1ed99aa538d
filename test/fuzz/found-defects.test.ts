/**
 * Defects the route fuzzer found, pinned as plain examples so they stay fixed even if the fuzzer's
 * seed or generators change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestApp, TEST_PAIRING_TOKEN, type TestApp } from '../fixtures/app'
import { jsonOf, waitFor } from '../faults/support'

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

describe('an instruction that looks like an option', () => {
  it('reaches an AGENT_<NAME>_CMD or custom agent after "--", never as an option of the agent', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'cockpit-argv-agent-'))
    try {
      // Writes the argv it got into its workspace, so the task's patch shows it.
      const agent = join(bin, 'argv-agent')
      writeFileSync(agent, '#!/bin/sh\nprintf \'arg=%s\\n\' "$@" > ARGV.txt\n')
      chmodSync(agent, 0o755)
      await using target = await makeTestApp({ env: { AGENT_CUSTOM_CMD: agent, AGENT_CLAUDE_CMD: `${agent} -p` } })
      for (const [agentName, fixed] of [['custom', []], ['claude', ['-p']]] as const) {
        for (const instruction of ['--dangerously-skip-permissions', '-rf', 'plain words']) {
          const started = await jsonOf<{ taskId: string }>(await target.request('/api/tasks', { method: 'POST', json: { instruction, agent: agentName } }))
          expect(started.status).toBe(202)
          await waitFor('the task to complete', async () => (await jsonOf<{ status: string }>(await target.request(`/api/tasks/${started.body.taskId}`))).body.status === 'completed')
          const patches = await jsonOf<{ patches: { hunks: { lines: string[] }[] }[] }>(await target.request(`/api/tasks/${started.body.taskId}/patches`))
          const argv = patches.body.patches[0]!.hunks[0]!.lines.map((line) => line.slice('+arg='.length))
          const guarded = instruction.startsWith('-') ? ['--', instruction] : [instruction]
          expect([agentName, argv]).toEqual([agentName, [...fixed, ...guarded]])
        }
      }
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('a body field whose toString is not a function', () => {
  it('answers 422 invalid_request, not 500 (Elysia fails while wording the validation error)', async () => {
    await using t = await makeTestApp()
    const body = '{"repo":{"toString":null,"1e309":-9007199254740992},"label":" "}'
    const response = await t.app.handle(
      new Request('http://localhost/api/session', { method: 'POST', headers: { authorization: `Bearer ${TEST_PAIRING_TOKEN}` }, body }),
    )
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
  })
})
