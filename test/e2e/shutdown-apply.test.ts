/**
 * SIGTERM while an apply runs: the server lets it finish, the client gets its 200 with the
 * commit that `git log` shows, the repo is clean, the server exits 0, and after a restart the
 * task reads `applied` with that commit.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { gitCli } from '../fixtures/app'
import { writeFileWriterAgent } from '../fixtures/file-writer-agent'
import { launch, makeServerHome } from '../fixtures/binary'
import { waitFor } from '../faults/support'

type TaskView = { taskId: string; status: string; commit?: string }

describe('SIGTERM during an apply', () => {
  it('lets the apply finish and answer, commits, exits 0, and the task reads applied after a restart', async () => {
    await using home = await makeServerHome()
    const agent = writeFileWriterAgent(home.dir)
    const server = await launch(home, agent.env)
    const { token } = await server.pair()
    const started = await server.api<TaskView>(token, '/api/tasks', { json: { instruction: '1500:shutdown', agent: 'custom' } })
    expect(started.status).toBe(202)
    const taskId = started.body.taskId
    await waitFor('the task to complete', async () => (await server.api<TaskView>(token, `/api/tasks/${taskId}`)).body.status === 'completed', 60_000)

    const applying = server.api<{ commit: string }>(token, `/api/tasks/${taskId}/apply`, { json: { commitMessage: 'applied while stopping' } })
    // The journal appears when the apply starts writing the repo: signal then.
    await waitFor('the apply to start writing', () => existsSync(join(home.repo, '.git', 'cockpit-apply')), 60_000, 2)
    const exited = server.stop('SIGTERM')
    const answer = await applying
    expect(answer.status).toBe(200)
    expect(await exited).toBe(0)
    expect(gitCli(home.repo, 'rev-parse', 'HEAD').trim()).toBe(answer.body.commit)
    expect(gitCli(home.repo, 'log', '-1', '--format=%s').trim()).toBe('applied while stopping')
    expect(gitCli(home.repo, 'status', '--porcelain', '--untracked-files=all')).toBe('')

    const again = await launch(home, agent.env)
    const task = (await again.api<TaskView>(token, `/api/tasks/${taskId}`)).body
    expect([task.status, task.commit]).toEqual(['applied', answer.body.commit])
  }, 120_000)
})
