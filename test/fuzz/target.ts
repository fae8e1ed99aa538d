/**
 * The app the route fuzzer attacks, in a state where every route has something real to find:
 * a completed task whose patches can no longer apply (so no fuzzed apply may write the repo),
 * four long-running tasks filling the session's task slots (so no fuzzed task starts an agent),
 * finished commands, another session with its own task and command, a deleted session's token,
 * and a sentinel directory next to the repo and STATE_DIR that nothing may ever touch.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gitCli, makeTestApp, TEST_PAIRING_TOKEN, type TestApp } from '../fixtures/app'
import { jsonOf, waitFor } from '../faults/support'

export type FuzzTarget = {
  app: TestApp
  sentinel: string
  completedTaskId: string
  blockerTaskIds: string[]
  otherSession: { sessionId: string; token: string; taskId: string; cmdId: string }
  deletedSessionToken: string
  cmdIds: string[]
}

async function startTask(app: TestApp, token: string, body: unknown): Promise<string> {
  const response = await app.request('/api/tasks', { method: 'POST', json: body, headers: { authorization: `Bearer ${token}` } })
  const { status, body: task } = await jsonOf<{ taskId: string }>(response)
  if (status !== 202) throw new Error(`starting a task answered ${status}: ${JSON.stringify(task)}`)
  return task.taskId
}

async function taskStatus(app: TestApp, token: string, taskId: string): Promise<string> {
  const { body } = await jsonOf<{ status: string }>(await app.request(`/api/tasks/${taskId}`, { headers: { authorization: `Bearer ${token}` } }))
  return body.status
}

async function runEcho(app: TestApp, token: string, text: string): Promise<string> {
  const response = await app.request('/api/cmd?wait=true', { method: 'POST', json: { cmd: `echo ${text}` }, headers: { authorization: `Bearer ${token}` } })
  const { status, body } = await jsonOf<{ cmdId: string }>(response)
  if (status !== 200) throw new Error(`echo answered ${status}: ${JSON.stringify(body)}`)
  return body.cmdId
}

export async function makeFuzzTarget(): Promise<FuzzTarget> {
  const app = await makeTestApp({
    env: { CMD_ALLOWLIST: 'echo *,true', TASK_TIMEOUT_SECONDS: '3600', LOG_LEVEL: process.env.FUZZ_LOG ?? 'silent' },
    repoFiles: { 'README.md': '# fuzz target\n', 'src/app.txt': 'one\ntwo\nthree\n', 'sub/keep.txt': 'keep\n' },
  })
  try {
    const sentinel = join(app.root, 'sentinel')
    mkdirSync(join(sentinel, 'nested'), { recursive: true })
    writeFileSync(join(sentinel, 'secret.txt'), 'do not touch\n')
    writeFileSync(join(sentinel, 'nested', 'deep.txt'), 'deep\n')
    // A committed symlink that leads out of the repo, for "symlink escape" path tricks.
    symlinkSync('../../sentinel', join(app.repo, 'link-out'))
    gitCli(app.repo, 'add', 'link-out')
    gitCli(app.repo, 'commit', '-q', '-m', 'link out')

    const token = app.token
    const completedTaskId = await startTask(app, token, {
      instruction: 'edit two files',
      context: { mock: { edits: [{ file: 'src/app.txt', content: 'one\nTWO\nthree\n' }, { file: 'added.txt', content: 'new\n' }] } },
    })
    await waitFor('the completed task', async () => (await taskStatus(app, token, completedTaskId)) === 'completed')
    // The repo moves on, so every hunk of that task conflicts: a fuzzed apply can never write.
    writeFileSync(join(app.repo, 'src', 'app.txt'), 'one\nzwei\nthree\n')
    writeFileSync(join(app.repo, 'added.txt'), 'already here\n')
    gitCli(app.repo, 'add', '-A')
    gitCli(app.repo, 'commit', '-q', '-m', 'move on')

    const blockerTaskIds: string[] = []
    for (let i = 0; i < 4; i++) blockerTaskIds.push(await startTask(app, token, { instruction: `block ${i}`, context: { mock: { delayMs: 3_600_000 } } }))
    for (const id of blockerTaskIds) await waitFor(`blocker ${id} running`, async () => (await taskStatus(app, token, id)) === 'running')

    const cmdIds = [await runEcho(app, token, 'first'), await runEcho(app, token, 'second')]

    const other = await app.newSession()
    const otherTaskId = await startTask(app, other.token, { instruction: 'other session', context: { mock: { edits: [{ file: 'o.txt', content: 'o\n' }] } } })
    await waitFor('the other session task', async () => (await taskStatus(app, other.token, otherTaskId)) === 'completed')
    const otherCmdId = await runEcho(app, other.token, 'other')

    const doomed = await app.newSession()
    const deleted = await app.app.handle(
      new Request(`http://localhost/api/session/${doomed.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${doomed.token}` } }),
    )
    if (deleted.status !== 200) throw new Error(`deleting a session answered ${deleted.status}`)

    return {
      app,
      sentinel,
      completedTaskId,
      blockerTaskIds,
      otherSession: { ...other, taskId: otherTaskId, cmdId: otherCmdId },
      deletedSessionToken: doomed.token,
      cmdIds,
    }
  } catch (error) {
    await app[Symbol.asyncDispose]()
    throw error
  }
}

export { TEST_PAIRING_TOKEN }
