import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isEvent, OutputEvent } from '../../src/events'
import type { FilePatch } from '../../src/git'
import { TaskStatusEvent } from '../../src/tasks/events'
import { gitCli } from '../fixtures/app'
import { fiftyLines, json, makeTaskApp } from './helpers'

/** The mock as a one-shot PTY program (print mode): exit codes and `exit` events are print-mode things. */
const PRINT_MODE = { AGENT_MOCK_MODE: 'print' }

const original = fiftyLines()
const editedLines = original.split('\n')
editedLines[1] = 'line 2 changed by the agent'
editedLines[39] = 'line 40 changed by the agent'
const edited = editedLines.join('\n')

const twoEditsAndANewFile = (delayMs: number) => ({
  instruction: 'Change lines 2 and 40 and add a note',
  context: { mock: { delayMs, edits: [{ file: 'src/fifty.txt', content: edited }, { file: 'NOTES.md', content: 'a new file\n' }] } },
})

describe('a mock task from 202 to its patches', () => {
  it('answers 202 at once, completes later, never touches the session repo, and yields the two hunks and the new file', async () => {
    await using t = await makeTaskApp({ repoFiles: { 'src/fifty.txt': original }, env: PRINT_MODE })
    const statusBefore = gitCli(t.repo, 'status', '--porcelain')
    const began = performance.now()
    const response = await t.request('/api/tasks', { json: twoEditsAndANewFile(1500) })
    expect(performance.now() - began).toBeLessThan(1000)
    expect(response.status).toBe(202)
    const created = (await response.json()) as Record<string, unknown>
    expect(created).toMatchObject({ status: 'pending', agent: 'mock', instruction: 'Change lines 2 and 40 and add a note', branch: null })
    expect(created.taskId).toBe(created.id)
    for (const field of ['startedAt', 'createdAt', 'updatedAt']) expect(Date.parse(created[field] as string)).not.toBeNaN()

    // The session repo stays as it was for the whole run.
    const taskId = created.taskId as string
    let polls = 0
    for (;;) {
      expect(gitCli(t.repo, 'status', '--porcelain')).toBe(statusBefore)
      polls++
      const task = (await (await t.request(`/api/tasks/${taskId}`)).json()) as { status: string }
      if (task.status !== 'pending' && task.status !== 'running') break
      await Bun.sleep(50)
    }
    expect(polls).toBeGreaterThan(5)
    expect(gitCli(t.repo, 'status', '--porcelain')).toBe(statusBefore)

    const task = await t.waitFor(taskId, ['completed'])
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 2 })
    expect(task.endedAt).toBeString()

    const { status, body } = await json<{ patches: FilePatch[] }>(await t.request(`/api/tasks/${taskId}/patches`))
    expect(status).toBe(200)
    const byFile = new Map(body.patches.map((p) => [p.file, p]))
    expect([...byFile.keys()].sort()).toEqual(['NOTES.md', 'src/fifty.txt'])
    expect(byFile.get('src/fifty.txt')!.type).toBe('modified')
    expect(byFile.get('src/fifty.txt')!.hunks.map((h) => [h.startOld, h.lenOld])).toEqual([
      [1, 5],
      [37, 7],
    ])
    expect(byFile.get('NOTES.md')).toMatchObject({ type: 'added', binary: false })
  })

  it('applies only the second hunk: the commit changes line 40 alone, with the requested message, at HEAD', async () => {
    await using t = await makeTaskApp({ repoFiles: { 'src/fifty.txt': original } })
    const { taskId } = await t.start(twoEditsAndANewFile(0))
    await t.waitFor(taskId, ['completed'])
    const headBefore = gitCli(t.repo, 'rev-parse', 'HEAD').trim()

    const applied = await json(
      await t.request(`/api/tasks/${taskId}/apply`, { json: { select: [{ file: 'src/fifty.txt', hunks: [1] }], commitMessage: 'Only line 40' } }),
    )
    expect(applied.status).toBe(200)
    expect(applied.body).toMatchObject({ ok: true, branch: 'main', applied: [{ file: 'src/fifty.txt', hunks: [1] }] })
    expect(applied.body.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(applied.body.commit).toBe(gitCli(t.repo, 'rev-parse', 'HEAD').trim())
    expect(gitCli(t.repo, 'rev-parse', 'HEAD~1').trim()).toBe(headBefore)
    expect(gitCli(t.repo, 'log', '-1', '--format=%s').trim()).toBe('Only line 40')

    const expected = original.split('\n')
    expected[39] = 'line 40 changed by the agent'
    expect(readFileSync(join(t.repo, 'src/fifty.txt'), 'utf8')).toBe(expected.join('\n'))
    expect(gitCli(t.repo, 'show', 'HEAD:src/fifty.txt')).toBe(expected.join('\n'))
    expect(existsSync(join(t.repo, 'NOTES.md'))).toBe(false)
    expect(gitCli(t.repo, 'status', '--porcelain')).toBe('')

    const task = await json(await t.request(`/api/tasks/${taskId}`))
    expect(task.body).toMatchObject({ status: 'applied', commit: applied.body.commit })
    // The workspace is gone after apply; the patches are still served from what was saved.
    expect(existsSync(t.workspaceOf(taskId))).toBe(false)
    expect((await json<{ patches: FilePatch[] }>(await t.request(`/api/tasks/${taskId}/patches`))).body.patches).toHaveLength(2)
  })

  it('merges several entries for one file, as the app sends one entry per ticked hunk', async () => {
    await using t = await makeTaskApp({ repoFiles: { 'src/fifty.txt': original } })
    const { taskId } = await t.start(twoEditsAndANewFile(0))
    await t.waitFor(taskId, ['completed'])
    const select = [
      { file: 'src/fifty.txt', hunks: [1] },
      { file: 'NOTES.md' },
      { file: 'src/fifty.txt', hunks: [0, 1] },
    ]
    const applied = await json<{ applied: { file: string; hunks: number[] }[] }>(await t.request(`/api/tasks/${taskId}/apply`, { json: { select } }))
    expect(applied.status).toBe(200)
    expect(readFileSync(join(t.repo, 'src/fifty.txt'), 'utf8')).toBe(edited)
    expect(readFileSync(join(t.repo, 'NOTES.md'), 'utf8')).toBe('a new file\n')
    expect(gitCli(t.repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual(['NOTES.md', 'src/fifty.txt'])
  })

  it('refuses to apply twice with 409, writing nothing', async () => {
    await using t = await makeTaskApp({ repoFiles: { 'src/fifty.txt': original } })
    const { taskId } = await t.start(twoEditsAndANewFile(0))
    await t.waitFor(taskId, ['completed'])
    expect((await t.request(`/api/tasks/${taskId}/apply`, { json: {} })).status).toBe(200)
    const head = gitCli(t.repo, 'rev-parse', 'HEAD')
    const again = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(again).toMatchObject({ status: 409, body: { error: 'already_applied' } })
    expect(gitCli(t.repo, 'rev-parse', 'HEAD')).toBe(head)
    expect(gitCli(t.repo, 'status', '--porcelain')).toBe('')
  })

  it('answers 409 naming the file and hunk when the repo changed under it, and writes nothing', async () => {
    await using t = await makeTaskApp({ repoFiles: { 'src/fifty.txt': original } })
    const { taskId } = await t.start(twoEditsAndANewFile(0))
    await t.waitFor(taskId, ['completed'])
    const moved = original.replace('line 40\n', 'line 40 edited by the user meanwhile\n')
    writeFileSync(join(t.repo, 'src/fifty.txt'), moved)
    gitCli(t.repo, 'commit', '-q', '-am', 'user edit')
    const head = gitCli(t.repo, 'rev-parse', 'HEAD')

    const conflict = await json<{ error: string; message: string }>(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(conflict.status).toBe(409)
    expect(conflict.body.error).toBe('patch_conflict')
    expect(conflict.body.message).toContain('src/fifty.txt')
    expect(conflict.body.message).toContain('Hunk 1')
    // All or nothing: the first hunk (which would apply) and the new file are not written either.
    expect(readFileSync(join(t.repo, 'src/fifty.txt'), 'utf8')).toBe(moved)
    expect(existsSync(join(t.repo, 'NOTES.md'))).toBe(false)
    expect(gitCli(t.repo, 'rev-parse', 'HEAD')).toBe(head)
    expect(gitCli(t.repo, 'status', '--porcelain')).toBe('')
    expect((await json(await t.request(`/api/tasks/${taskId}`))).body.status).toBe('completed')
  })

  it('commits with a message derived from the instruction when the request gives none', async () => {
    await using t = await makeTaskApp()
    const { taskId } = await t.start({ instruction: 'Write the release notes\nwith details below' })
    await t.waitFor(taskId, ['completed'])
    const applied = await json(await t.request(`/api/tasks/${taskId}/apply`, { json: {} }))
    expect(applied.status).toBe(200)
    expect(gitCli(t.repo, 'log', '-1', '--format=%s').trim()).toBe('Write the release notes')
    expect(readFileSync(join(t.repo, 'COCKPIT_MOCK.md'), 'utf8')).toContain('- Write the release notes with details below')
  })

  it('publishes the events of a task in order: pending, running, output, patch, exit, completed', async () => {
    await using t = await makeTaskApp({ env: PRINT_MODE })
    const { taskId } = await t.start({ instruction: 'evented', context: { mock: { delayMs: 200, output: 'hello from the mock' } } })
    await t.waitFor(taskId, ['completed'])
    const mine = t.events.filter((e) => 'taskId' in e && e.taskId === taskId)
    const seqs = mine.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    const statuses = mine.flatMap((e) => (isEvent(e, TaskStatusEvent) ? [e.status] : []))
    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['pending', 'running', 'completed'])
    const kinds = mine.map((e) => e.type)
    const firstOutput = kinds.indexOf('output')
    const patch = kinds.indexOf('patch')
    const exit = kinds.indexOf('exit')
    const completed = mine.findIndex((e) => e.type === 'status' && e.status === 'completed')
    expect(firstOutput).toBeGreaterThan(mine.findIndex((e) => e.type === 'status' && e.status === 'running'))
    expect(patch).toBeGreaterThan(kinds.lastIndexOf('output'))
    expect(exit).toBeGreaterThan(patch)
    expect(completed).toBeGreaterThan(exit)
    expect(mine[patch]).toMatchObject({ type: 'patch', count: 1 })
    expect(mine[exit]).toMatchObject({ type: 'exit', code: 0, durationMs: expect.any(Number) })
    const output = mine.flatMap((e) => (isEvent(e, OutputEvent) ? [e.data] : [])).join('')
    expect(output).toContain('hello from the mock')
    expect(output).toContain('\x1b[')
  })

  it('lists the session tasks newest first', async () => {
    await using t = await makeTaskApp()
    const first = await t.start({ instruction: 'first' })
    const second = await t.start({ instruction: 'second' })
    await t.waitFor(first.taskId, ['completed'])
    await t.waitFor(second.taskId, ['completed'])
    const { status, body } = await json<{ taskId: string }[]>(await t.request('/api/tasks'))
    expect(status).toBe(200)
    expect(body.map((task) => task.taskId)).toEqual([second.taskId, first.taskId])
  })
})
