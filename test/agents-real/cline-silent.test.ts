import { describe, expect, it } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_AGENTS, createCliAgent } from '../../src/agents'
import type { BusEvent } from '../../src/events'
import { SILENT_LOGGER } from '../../src/logger'
import { MemoryTaskStore, type TaskRecord } from '../../src/tasks'
import { TaskRun } from '../../src/tasks/run'
import { Workspaces } from '../../src/tasks/workspaces'
import { makeRepo } from '../fixtures/git-repo'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS } from './harness'

/**
 * The real cline with a provider whose endpoint accepts connections and never answers: it prints
 * nothing and never exits (its own -t/--timeout does not end it either). The run stops it once
 * it has been silent for the adapter's first-output timeout and fails the task saying what to
 * check. The adapter's 120 s is shortened here (a run of the task layer with the real CLI, not the
 * binary), so the test does not sit out two minutes.
 */
const bin = realAgentBinDir('cline')
const definition = CLI_AGENTS.find((d) => d.name === 'cline')!

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(bin === null)('the real cline whose provider never answers', () => {
  it('is stopped after the first-output timeout with an error naming the provider to check', async () => {
    let connections = 0
    const mute = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { open: () => void connections++, data() {} } })
    const home = mkdtempSync(join(tmpdir(), 'cockpit-cline-home-'))
    await using repo = await makeRepo({ 'README.md': 'hello\n' })
    try {
      const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: home }
      const auth = Bun.spawnSync([`${bin}/cline`, 'auth', 'openai', '-k', 'sk-x', '-b', `http://127.0.0.1:${mute.port}/v1`, '-m', 'gpt-scripted'], { env })
      expect(auth.exitCode).toBe(0)

      const agent = createCliAgent({ ...definition, firstOutputTimeout: { ...definition.firstOutputTimeout!, ms: 25_000 } })
      const store = new MemoryTaskStore()
      const [sessionId, taskId] = [randomUUID(), randomUUID()]
      const now = new Date().toISOString()
      const task: TaskRecord = {
        id: taskId, sessionId, instruction: 'Create hello.txt', agent: 'cline', branch: null, context: null, status: 'pending', phase: null,
        createdAt: now, startedAt: now, updatedAt: now, endedAt: null, exitCode: null, error: null, patchCount: 0, commit: null, workspaceDir: null, baseline: null,
      }
      store.insert(task)
      const events: BusEvent[] = []
      const launch = agent.launch({ instruction: task.instruction, context: null })
      const run = new TaskRun(taskId, repo.dir, { agent, mode: 'print', file: `${bin}/cline`, args: launch.args }, {
        store,
        workspaces: new Workspaces(join(home, 'state')),
        publish: (definition, fields) => void events.push({ type: definition.type, ...fields } as unknown as BusEvent),
        taskTimeoutMs: 300_000,
        scrollbackBytes: 64 * 1024,
        environment: env,
        logger: SILENT_LOGGER,
      })
      const began = Date.now()
      run.start()
      await run.done
      const ended = store.get(taskId)!
      expect(ended.status).toBe('failed')
      expect(ended.error).toStartWith('Agent cline printed nothing in 25 s and was stopped: ')
      expect(ended.error).toContain('cline auth')
      expect(Date.now() - began).toBeGreaterThanOrEqual(25_000)
      expect(connections).toBeGreaterThan(0)
      expect(groupAlive(run.terminal!.pid)).toBe(false)
      expect(events.filter((e) => e.type === 'output')).toEqual([])
    } finally {
      mute.stop(true)
      rmSync(home, { recursive: true, force: true })
    }
  }, REAL_AGENT_TEST_MS)
})
