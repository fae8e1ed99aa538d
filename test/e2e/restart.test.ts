/**
 * What survives a restart (CONTRACT.md), against the compiled binary with the same STATE_DIR:
 * stopped with SIGTERM, and with SIGKILL of its whole process group. After each: the token
 * still works, sessions, tasks and patches read as before, apply works, resumeSeq with the old
 * epoch gets `ok`, the task whose agent ran is failed saying the server stopped and keeps its
 * workspace, the kept secrets are reused, and the terminal is a fresh shell.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { gitCli } from '../fixtures/app'
import { launch, makeServerHome, type RunningServer } from '../fixtures/binary'
import { waitFor } from '../faults/support'

type TaskView = { taskId: string; status: string; error?: string; patchCount: number; commit?: string; endedAt?: string }
type Frame = Record<string, unknown> & { type: string; seq?: number; epoch?: string }

/** An /ws/events socket that records its frames. */
async function eventsSocket(server: RunningServer, sessionId: string, token: string, resume?: { seq: number; epoch: string }) {
  const query = `sessionId=${sessionId}&token=${token}${resume ? `&resumeSeq=${resume.seq}&epoch=${resume.epoch}` : ''}`
  const ws = new WebSocket(`${server.wsBase}/ws/events?${query}`)
  const frames: Frame[] = []
  ws.addEventListener('message', (event) => frames.push(JSON.parse(String(event.data)) as Frame))
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve)
    ws.addEventListener('error', () => reject(new Error('/ws/events did not open')))
  })
  return { ws, frames }
}

/** Types `line` into the session's terminal and resolves with the output that matched `expect`. */
async function terminalSays(server: RunningServer, sessionId: string, token: string, line: string, expected: RegExp): Promise<string> {
  const ws = new WebSocket(`${server.wsBase}/ws/pty?sessionId=${sessionId}&token=${token}`)
  let output = ''
  ws.addEventListener('message', (event) => (output += String(event.data)))
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve)
    ws.addEventListener('error', () => reject(new Error('/ws/pty did not open')))
  })
  ws.send(line + '\r')
  try {
    return await waitFor(`the terminal to print ${expected}`, () => expected.exec(output)?.[0], 15_000)
  } finally {
    ws.close()
  }
}

const SERVER_STOPPED = 'The server stopped while the agent ran; its workspace is kept, so its changes can still be reviewed.'

describe('a restart on the same STATE_DIR', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}${signal === 'SIGKILL' ? ' of the process group' : ''}: tokens, sessions, tasks, patches, apply and resume go on; the running task failed and kept its workspace; the shell is fresh`, async () => {
      await using home = await makeServerHome({ 'README.md': '# restart\n', 'src/app.txt': 'one\ntwo\nthree\n' })
      const first = await launch(home)
      expect(first.stdout).toContain('JWT_SECRET new, kept in')
      const { sessionId, token } = await first.pair()
      const events = await eventsSocket(first, sessionId, token)

      const done = await first.api<TaskView>(token, '/api/tasks', { json: { instruction: 'edit app', context: { mock: { edits: [{ file: 'src/app.txt', content: 'one\nTWO\nthree\n' }, { file: 'new.txt', content: 'new\n' }] } } } })
      expect(done.status).toBe(202)
      const completed = await waitFor('the first task to complete', async () => {
        const view = (await first.api<TaskView>(token, `/api/tasks/${done.body.taskId}`)).body
        return view.status === 'completed' ? view : undefined
      })
      const running = await first.api<TaskView>(token, '/api/tasks', { json: { instruction: 'run long', context: { mock: { delayMs: 86_400_000 } } } })
      await waitFor('the second task to run', async () => (await first.api<TaskView>(token, `/api/tasks/${running.body.taskId}`)).body.status === 'running')
      const patchesBefore = (await first.api<{ patches: unknown[] }>(token, `/api/tasks/${done.body.taskId}/patches`)).body
      expect(patchesBefore.patches).toHaveLength(2)
      const listBefore = (await first.api<TaskView[]>(token, '/api/tasks')).body
      expect(await terminalSays(first, sessionId, token, 'export COCKPIT_MARK=before; echo "set:$COCKPIT_MARK"', /set:before/)).toBe('set:before')
      // The events so far, as a client saw them. Nothing is published from here to the signal (the
      // long task prints its next progress line hours from now), so no batch of events is left
      // unwritten: a batch lost with a SIGKILL would rightly make the resume below a `gap`
      // (test/store/stores.test.ts covers that case).
      // Batches are written 100 ms after they open; a busy machine delays that timer, so wait well past it.
      await Bun.sleep(1500)
      const seen = events.frames.filter((f) => f.type !== 'resume' && typeof f.seq === 'number')
      const lastSeen = seen.at(-1)!
      events.ws.close()

      const code = await first.stop(signal)
      if (signal === 'SIGTERM') expect(code).toBe(0)

      const second = await launch(home)
      expect(second.stdout).toContain('JWT_SECRET kept (')
      expect(second.stdout).toContain('PAIRING_TOKEN kept (')
      expect(second.pairingToken).toBe(first.pairingToken)

      // The old token, the session and the tasks.
      expect((await second.api(token, `/api/session/${sessionId}`)).status).toBe(200)
      const listAfter = (await second.api<TaskView[]>(token, '/api/tasks')).body
      expect(listAfter.map((t) => t.taskId)).toEqual(listBefore.map((t) => t.taskId))
      expect(listAfter.find((t) => t.taskId === done.body.taskId)).toEqual(completed)
      const failed = listAfter.find((t) => t.taskId === running.body.taskId)!
      expect([failed.status, failed.error]).toEqual(['failed', SERVER_STOPPED])
      expect(existsSync(`${home.stateDir}/workspaces/${sessionId}/${running.body.taskId}`)).toBe(true)
      expect((await second.api(token, `/api/tasks/${running.body.taskId}/patches`)).status).toBe(200)
      expect((await second.api(token, `/api/tasks/${done.body.taskId}/patches`)).body).toEqual(patchesBefore)

      // resumeSeq with the old epoch: ok, and what happened since follows in order.
      const resumed = await eventsSocket(second, sessionId, token, { seq: lastSeen.seq!, epoch: lastSeen.epoch! })
      await waitFor('the resume frame', () => resumed.frames.length > 0)
      expect(resumed.frames[0]).toMatchObject({ type: 'resume', status: 'ok', epoch: lastSeen.epoch })
      await waitFor('the failed status of the running task', () =>
        resumed.frames.some((f) => f.type === 'status' && f.taskId === running.body.taskId && f.status === 'failed'),
      )
      const seqs = resumed.frames.filter((f) => f.type !== 'resume' && typeof f.seq === 'number').map((f) => f.seq!)
      expect(seqs[0]).toBe(lastSeen.seq! + 1)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      resumed.ws.close()

      // Apply after the restart commits, and the workspace of the applied task goes.
      const applied = await second.api<{ commit: string }>(token, `/api/tasks/${done.body.taskId}/apply`, { json: { commitMessage: 'after restart' } })
      expect(applied.status).toBe(200)
      expect(gitCli(home.repo, 'rev-parse', 'HEAD').trim()).toBe(applied.body.commit)
      expect(gitCli(home.repo, 'status', '--porcelain')).toBe('')
      expect(gitCli(home.repo, 'show', 'HEAD:src/app.txt')).toBe('one\nTWO\nthree\n')
      expect(existsSync(`${home.stateDir}/workspaces/${sessionId}/${done.body.taskId}`)).toBe(false)

      // The pairing token still pairs, and the terminal is a new shell.
      expect((await second.pair()).token).toBeString()
      expect(await terminalSays(second, sessionId, token, 'echo "mark:$COCKPIT_MARK:"', /mark:[a-z]*:/)).toBe('mark::')
      expect(await second.stop('SIGTERM')).toBe(0)
    }, 120_000)
  }
})
