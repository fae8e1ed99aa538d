/**
 * The command-injection and path-traversal tables in one place: each row is one hostile input and
 * the exact status and error kind the server must answer, plus the proof that nothing ran through
 * a shell and nothing was written outside the repo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitCli, makeTestApp, TEST_PAIRING_TOKEN, type TestApp } from '../fixtures/app'
import { jsonOf, waitFor } from '../faults/support'
import { diffSnapshots, snapshotTree } from './snapshot'

/** A custom agent that writes, in its workspace, paths an apply must never write to the repo. */
const HOSTILE_AGENT = `#!/bin/sh
mkdir -p .GIT/hooks escape
printf '#!/bin/sh\\necho owned\\n' > .GIT/hooks/pre-commit
printf 'through the link\\n' > escape/pwned.txt
printf 'backslashes\\n' > 'a\\..\\..\\x'
printf 'fine\\n' > ok.txt
echo done
`

let app: TestApp
let agentDir: string
let sentinel: string
let before: Map<string, string>
let mockTaskId: string
let hostileTaskId: string

async function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  return jsonOf<{ error?: string; output?: string; code?: number }>(await app.request(path, { method: 'POST', json, headers }))
}

async function completedTask(body: unknown): Promise<string> {
  const started = await post('/api/tasks', body)
  expect(started.status).toBe(202)
  const id = (started.body as unknown as { taskId: string }).taskId
  await waitFor(`task ${id} completed`, async () => {
    const task = await jsonOf<{ status: string }>(await app.request(`/api/tasks/${id}`))
    if (['failed', 'cancelled'].includes(task.body.status)) throw new Error(`task ${id} ended ${JSON.stringify(task.body)}`)
    return task.body.status === 'completed'
  })
  return id
}

beforeAll(async () => {
  agentDir = mkdtempSync(join(tmpdir(), 'cockpit-tables-agent-'))
  const agent = join(agentDir, 'hostile-agent')
  writeFileSync(agent, HOSTILE_AGENT)
  chmodSync(agent, 0o755)
  app = await makeTestApp({
    env: { CMD_ALLOWLIST: 'npm test,echo hello *', AGENT_CUSTOM_CMD: agent },
    repoFiles: { 'README.md': '# tables\n', 'src/app.txt': 'one\ntwo\nthree\n' },
  })
  sentinel = join(app.root, 'sentinel')
  mkdirSync(sentinel)
  writeFileSync(join(sentinel, 'secret.txt'), 'do not touch\n')
  mkdirSync(join(app.root, 'allowed-evil', 'repo'), { recursive: true })
  symlinkSync('../sentinel', join(app.allowed, 'link-out'))
  symlinkSync('../../sentinel', join(app.repo, 'link-out'))
  mkdirSync(join(app.repo, 'sub'))

  mockTaskId = await completedTask({ instruction: 'edit', context: { mock: { edits: [{ file: 'src/app.txt', content: 'one\nTWO\nthree\n' }] } } })
  hostileTaskId = await completedTask({ instruction: 'write tricky paths', agent: 'custom' })
  // After the agent ran: a symlink in the repo where the agent wrote a directory.
  symlinkSync('../../sentinel', join(app.repo, 'escape'))
  before = snapshotTree(app.root, [app.stateDir])
}, 60_000)

afterAll(async () => {
  await app?.[Symbol.asyncDispose]()
  if (agentDir) rmSync(agentDir, { recursive: true, force: true })
}, 30_000)

describe('command injection: refused', () => {
  const rows: [cmd: string, status: number, kind: string][] = [
    ['npm test; id', 403, 'command_not_allowed'],
    ['npm test --script-shell=/tmp/x', 403, 'command_not_allowed'],
    ['npm test --prefix /x', 403, 'command_not_allowed'],
    ['./npm test', 403, 'command_not_allowed'],
    ['/usr/bin/npm test', 403, 'command_not_allowed'],
    ['NPM test', 403, 'command_not_allowed'],
    ['npm TEST', 403, 'command_not_allowed'],
    ['"npm test"', 403, 'command_not_allowed'],
    ['npm test\nid', 400, 'invalid_command'],
    ['npm test\r\nid', 400, 'invalid_command'],
    ['npm test\u0000', 400, 'invalid_command'],
    ['rm -rf /', 403, 'command_not_allowed'],
    ['$(id)', 403, 'command_not_allowed'],
    ['npm test $(id)', 403, 'command_not_allowed'],
    ['npm test `id`', 403, 'command_not_allowed'],
    ['`id`', 403, 'command_not_allowed'],
    ['npm test | id', 403, 'command_not_allowed'],
    ['npm test|id', 403, 'command_not_allowed'],
    ['npm test && id', 403, 'command_not_allowed'],
    ['npm test || id', 403, 'command_not_allowed'],
    ['npm test & id', 403, 'command_not_allowed'],
    ['npm test > /tmp/x', 403, 'command_not_allowed'],
    ['npm test 2>&1', 403, 'command_not_allowed'],
    ['npm test < /etc/passwd', 403, 'command_not_allowed'],
    ['npm${IFS}test', 403, 'command_not_allowed'],
    ['sh -c "npm test"', 403, 'command_not_allowed'],
    ['env npm test', 403, 'command_not_allowed'],
    ['echo hello; touch PWNED', 403, 'command_not_allowed'],
    ['echo "unterminated', 400, 'invalid_command'],
    ['   ', 400, 'invalid_command'],
    ['', 422, 'invalid_request'],
  ]
  it.each(rows)('%j answers %d %s', async (cmd, status, kind) => {
    const answer = await post('/api/cmd?wait=true', { cmd })
    expect([answer.status, answer.body.error]).toEqual([status, kind])
  }, 30_000)
})

describe('command injection: shell syntax is plain text', () => {
  const rows: [cmd: string, output: string][] = [
    ['echo hello ; touch PWNED', 'hello ; touch PWNED\n'],
    ['echo hello $(touch PWNED)', 'hello $(touch PWNED)\n'],
    ['echo hello `touch PWNED`', 'hello `touch PWNED`\n'],
    ['echo hello | touch PWNED', 'hello | touch PWNED\n'],
    ['echo hello && touch PWNED', 'hello && touch PWNED\n'],
    ['echo hello > PWNED', 'hello > PWNED\n'],
    ['echo hello 2>PWNED', 'hello 2>PWNED\n'],
    ['echo hello $HOME ~ * ?', 'hello $HOME ~ * ?\n'],
    ['echo hello "a  b" \'c $d\'', 'hello a  b c $d\n'],
    ['echo hello --script-shell=/tmp/x', 'hello --script-shell=/tmp/x\n'],
  ]
  it.each(rows)('%j runs echo with literal words', async (cmd, output) => {
    const answer = await post('/api/cmd?wait=true', { cmd })
    expect([answer.status, answer.body.code, answer.body.output]).toEqual([200, 0, output])
    expect(existsSync(join(app.repo, 'PWNED'))).toBe(false)
  }, 30_000)
})

describe('path traversal: cmd cwd', () => {
  const rows = (): [cwd: string, status: number, kind: string | undefined][] => [
    ['..', 403, 'path_not_allowed'],
    ['../..', 403, 'path_not_allowed'],
    ['sub/../..', 403, 'path_not_allowed'],
    ['/', 403, 'path_not_allowed'],
    ['/tmp', 403, 'path_not_allowed'],
    [sentinel, 403, 'path_not_allowed'],
    [`${app.repo}/../../sentinel`, 403, 'path_not_allowed'],
    [`${app.repo}-evil`, 403, 'path_not_allowed'],
    ['link-out', 403, 'path_not_allowed'],
    ['x\u0000y', 403, 'path_not_allowed'],
    ['%2e%2e', 400, 'invalid_cwd'],
    ['README.md', 400, 'invalid_cwd'],
    ['missing', 400, 'invalid_cwd'],
    ['a'.repeat(5000), 422, 'invalid_request'],
    ['sub', 200, undefined],
    [app.repo, 200, undefined],
  ]
  it('answers every cwd row with its status and kind', async () => {
    for (const [cwd, status, kind] of rows()) {
      const answer = await post('/api/cmd?wait=true', { cmd: 'echo hello', cwd })
      expect([cwd.slice(0, 60), answer.status, answer.body.error]).toEqual([cwd.slice(0, 60), status, kind])
    }
  }, 30_000)
})

describe('path traversal: session repo', () => {
  const rows = (): [repo: string, status: number, kind: string][] => [
    [`${app.allowed}/../sentinel`, 403, 'repo_not_allowed'],
    [`${app.repo}/../../sentinel`, 403, 'repo_not_allowed'],
    [`${app.allowed}/link-out`, 403, 'repo_not_allowed'],
    [`${app.allowed}-evil/repo`, 403, 'repo_not_allowed'],
    ['/', 403, 'repo_not_allowed'],
    ['/etc', 403, 'repo_not_allowed'],
    ['/nonexistent/outside', 403, 'repo_not_allowed'],
    [`${app.allowed}/missing`, 400, 'repo_not_found'],
    [`${app.allowed}/%2e%2e/sentinel`, 400, 'repo_not_found'],
    [`${app.repo}/README.md`, 400, 'invalid_repo'],
    [`${app.repo}\u0000`, 400, 'invalid_repo'],
    ['repo', 400, 'invalid_repo'],
    ['../allowed/repo', 400, 'invalid_repo'],
    ['~/repo', 400, 'invalid_repo'],
  ]
  it('answers every repo row with its status and kind', async () => {
    for (const [repo, status, kind] of rows()) {
      const answer = await post('/api/session', { repo }, { authorization: `Bearer ${TEST_PAIRING_TOKEN}` })
      expect([repo, answer.status, answer.body.error]).toEqual([repo, status, kind])
    }
  }, 30_000)
})

describe('path traversal: task edits and apply selections', () => {
  it('refuses mock edits that leave the workspace before a task starts', async () => {
    for (const file of ['../x', '../../sentinel/pwned', '/etc/passwd', `${sentinel}/pwned`, '.git/hooks/pre-commit', '.GIT/config', 'a/../../x', 'x\u0000y', '..\\x']) {
      const answer = await post('/api/tasks', { instruction: 'x', context: { mock: { edits: [{ file, content: 'x' }] } } })
      expect([file, answer.status, answer.body.error]).toEqual([file, 400, 'invalid_mock_spec'])
    }
  }, 30_000)

  it('refuses a selection naming a file the task did not produce', async () => {
    for (const file of ['../README.md', '%2e%2e/README.md', `${app.repo}/src/app.txt`, `${sentinel}/secret.txt`, '.git/hooks/pre-commit', 'src/app.txt/../../x', 'link-out/secret.txt']) {
      const answer = await post(`/api/tasks/${mockTaskId}/apply`, { select: [{ file }] })
      expect([file, answer.status, answer.body.error]).toEqual([file, 400, 'invalid_selection'])
    }
  }, 30_000)

  it('refuses hunk indices out of range', async () => {
    expect(await post(`/api/tasks/${mockTaskId}/apply`, { select: [{ file: 'src/app.txt', hunks: [-1] }] }).then((a) => [a.status, a.body.error])).toEqual([400, 'invalid_selection'])
    expect(await post(`/api/tasks/${mockTaskId}/apply`, { select: [{ file: 'src/app.txt', hunks: [1] }] }).then((a) => [a.status, a.body.error])).toEqual([400, 'invalid_selection'])
    expect(await post(`/api/tasks/${mockTaskId}/apply`, { select: [{ file: 'src/app.txt', hunks: [2 ** 53] }] }).then((a) => [a.status, a.body.error])).toEqual([400, 'invalid_selection'])
  }, 30_000)

  it("refuses an agent's patch into .GIT, through a symlink that leaves the repo, or with backslashes: 403, nothing written", async () => {
    const patches = await jsonOf<{ patches: { file: string }[] }>(await app.request(`/api/tasks/${hostileTaskId}/patches`))
    const files = patches.body.patches.map((p) => p.file).sort()
    expect(files).toEqual(['.GIT/hooks/pre-commit', 'a\\..\\..\\x', 'escape/pwned.txt', 'ok.txt'])
    for (const file of ['.GIT/hooks/pre-commit', 'escape/pwned.txt', 'a\\..\\..\\x']) {
      const answer = await post(`/api/tasks/${hostileTaskId}/apply`, { select: [{ file }, { file: 'ok.txt' }] })
      expect([file, answer.status, answer.body.error]).toEqual([file, 403, 'path_not_allowed'])
    }
    const all = await post(`/api/tasks/${hostileTaskId}/apply`, {})
    expect([all.status, all.body.error]).toEqual([403, 'path_not_allowed'])
    // All or nothing: not even the harmless ok.txt was written, and the sentinel is untouched.
    expect(diffSnapshots(before, snapshotTree(app.root, [app.stateDir]))).toEqual([])
    expect(gitCli(app.repo, 'log', '--oneline').trim().split('\n')).toHaveLength(1)
  }, 30_000)
})
