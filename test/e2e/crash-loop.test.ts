/**
 * The crash loop: 50 times, the compiled binary is SIGKILLed (its whole process group) at a
 * seeded random moment while tasks run, events flow and an apply of a few hundred files is in
 * flight. After each kill: state.db opens and passes SQLite's integrity and foreign-key checks;
 * the next server starts on it and the old token still works; the repo holds an apply's commit
 * with its files or neither: `git status` clean, no lock, no journal, no temp file, and HEAD's
 * files are the ones its commit message names.
 */
import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { gitCli } from '../fixtures/app'
import { writeFileWriterAgent } from '../fixtures/file-writer-agent'
import { launch, makeServerHome, type RunningServer } from '../fixtures/binary'
import { Prng } from '../fuzz/prng'
import { waitFor } from '../faults/support'

const ROUNDS = 50
const FILES = 300
type TaskView = { taskId: string; status: string; instruction: string }

function checkDatabase(stateDir: string): void {
  const db = new Database(join(stateDir, 'state.db'))
  try {
    expect(db.query('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }])
    expect(db.query('PRAGMA foreign_key_check').all()).toEqual([])
  } finally {
    db.close()
  }
}

/** The repo has each apply's commit with its files, or neither. */
function checkRepo(repo: string): string {
  expect(gitCli(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('')
  for (const leftover of ['index.lock', 'refs/heads/main.lock', 'cockpit-apply']) expect(existsSync(join(repo, '.git', leftover))).toBe(false)
  const subject = gitCli(repo, 'log', '-1', '--format=%s').trim()
  const tag = /^crash (\S+)$/.exec(subject)?.[1]
  if (tag !== undefined) {
    for (const n of [0, FILES / 2, FILES - 1]) expect(gitCli(repo, 'show', `HEAD:gen/f${n}.txt`)).toBe(`file ${n}\n${tag}\n`)
  }
  return subject
}

async function completedTask(server: RunningServer, token: string): Promise<TaskView | undefined> {
  return (await server.api<TaskView[]>(token, '/api/tasks')).body.find((task) => task.status === 'completed')
}

async function startWriter(server: RunningServer, token: string, tag: string): Promise<string> {
  const started = await server.api<TaskView>(token, '/api/tasks', { json: { instruction: `${FILES}:${tag}`, agent: 'custom' } })
  expect(started.status).toBe(202)
  return started.body.taskId
}

async function waitCompleted(server: RunningServer, token: string, taskId: string): Promise<void> {
  await waitFor('the writer task to complete', async () => (await server.api<TaskView>(token, `/api/tasks/${taskId}`)).body.status === 'completed', 60_000)
}

describe('crash loop', () => {
  it(`${ROUNDS} SIGKILLs at random moments leave a database that opens and repos with an apply's commit and its files, or neither`, async () => {
    await using home = await makeServerHome()
    const agent = writeFileWriterAgent(home.dir)
    // A tiny history: task records of earlier rounds are trimmed, so the database stays small.
    const env = { ...agent.env, LOG_LEVEL: 'warn' }
    let server = await launch(home, env)
    const { sessionId, token } = await server.pair()

    // One round left alone: how long an apply of FILES files takes on this machine now.
    await waitCompleted(server, token, await startWriter(server, token, 'warmup'))
    const warm = await completedTask(server, token)
    const started = performance.now()
    expect((await server.api(token, `/api/tasks/${warm!.taskId}/apply`, { json: { commitMessage: 'crash warmup' } })).status).toBe(200)
    const applyMs = performance.now() - started

    const prng = new Prng(20261201)
    const subjects = new Set<string>()
    let interrupted = 0
    for (let round = 0; round < ROUNDS; round++) {
      // Something to apply: a task completed in an earlier round, or one made now.
      let ready = await completedTask(server, token)
      if (!ready) {
        await waitCompleted(server, token, await startWriter(server, token, `r${round}`))
        ready = (await completedTask(server, token))!
      }
      const tag = /:(\S+)$/.exec(ready.instruction)![1]!
      const events = new WebSocket(`${server.wsBase}/ws/events?sessionId=${sessionId}&token=${token}`)
      void server.api(token, `/api/tasks/${ready.taskId}/apply`, { json: { commitMessage: `crash ${tag}` } }).catch(() => undefined)
      void startWriter(server, token, `r${round}b`).catch(() => undefined)
      void server.api(token, '/api/tasks', { json: { instruction: 'talk', context: { mock: { delayMs: 30_000, output: 'x'.repeat(200) } } } }).catch(() => undefined)
      // The apply shares the server with two starting tasks, so it takes longer than the warm-up one.
      await Bun.sleep(Math.floor(prng.next() * applyMs * 3))
      await server.stop('SIGKILL')
      events.close()

      checkDatabase(home.stateDir)
      server = await launch(home, env)
      if (server.stderr.includes('finished an interrupted apply')) interrupted++
      expect((await server.api(token, `/api/session/${sessionId}`)).status).toBe(200)
      subjects.add(checkRepo(home.repo))
      // A completed task whose commit landed just before the kill (the record did not follow) no longer applies: drop it.
      for (const task of (await server.api<TaskView[]>(token, '/api/tasks')).body) {
        if (task.status === 'completed' && subjects.has(`crash ${/:(\S+)$/.exec(task.instruction)![1]}`)) {
          await server.api(token, `/api/tasks/${task.taskId}`, { method: 'DELETE' })
        }
      }
    }
    await server.stop('SIGTERM')
    console.log(`crash loop: ${ROUNDS} kills, ${subjects.size} distinct HEADs, ${interrupted} applies finished or undone at start-up (apply ~${Math.round(applyMs)} ms)`)
    expect(subjects.size).toBeGreaterThan(1)
  }, 600_000)
})
