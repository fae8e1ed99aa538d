import { describe, expect, it } from 'bun:test'
import { startOpenAiApi } from '../fixtures/model-api/openai'
import { realAgentBinDir } from '../fixtures/real-agents'
import { bodiesText, REAL_AGENT_TEST_MS, startRealCockpit, type RealCockpit } from './harness'

/**
 * Cline CLI (the pinned cline) through the compiled server, its provider configured the way a
 * user does it (`cline auth openai -k … -b … -m …`, the base URL being the scripted
 * OpenAI-compatible API). With `--auto-approve false` it asks `Approve "<tool>" … [y/N]` on its
 * terminal before every tool; the task shows that as phase `awaiting_input` and a chat message
 * answers it.
 */
const bin = realAgentBinDir('cline')

async function configureProvider(cockpit: RealCockpit, apiUrl: string): Promise<void> {
  const auth = Bun.spawn([`${bin}/cline`, 'auth', 'openai', '-k', 'sk-scripted', '-b', `${apiUrl}/v1`, '-m', 'gpt-scripted'], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: cockpit.home },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const code = await auth.exited
  expect(`${code} ${await new Response(auth.stderr).text()}`.trim()).toBe('0')
}

async function approvalAsked(cockpit: RealCockpit, taskId: string) {
  return cockpit.waitFor(taskId, (task) => task.phase === 'awaiting_input' || ['completed', 'failed', 'cancelled'].includes(task.status))
}

describe.skipIf(bin === null)('the real cline in print mode', () => {
  it('asks before editing, edits once approved, and the patch applies as a real commit', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello from cline\n*** End Patch\n'
    await using api = startOpenAiApi([{ tool: 'apply_patch', input: { input: patch } }, { text: 'I added hello.txt.' }])
    await using cockpit = await startRealCockpit(bin!)
    await configureProvider(cockpit, api.url)
    const taskId = await cockpit.startTask('cline', 'Create hello.txt saying hello')
    expect(await approvalAsked(cockpit, taskId)).toMatchObject({ status: 'running', phase: 'awaiting_input' })
    await cockpit.sendUserMessage(taskId, 'y')
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 1 })
    const patches = await cockpit.patches(taskId)
    expect(patches.map((p) => [p.file, p.type])).toEqual([['hello.txt', 'added']])
    // cline's apply_patch drops the final newline.
    expect(patches[0]!.hunks[0]!.lines[0]).toBe('+hello from cline')
    expect(bodiesText(api.script.requests.slice(-1))).toContain('Create hello.txt saying hello')
    expect(api.script.unexpected).toEqual([])
    await cockpit.applyAndCommit(taskId, 'Add hello.txt from cline')
  }, REAL_AGENT_TEST_MS)

  it('does not run a shell command unattended: it asks, and a refusal leaves nothing behind', async () => {
    await using api = startOpenAiApi([{ tool: 'run_commands', input: { commands: ['touch pwned.txt'] } }, { text: 'Could not run it.' }])
    await using cockpit = await startRealCockpit(bin!)
    await configureProvider(cockpit, api.url)
    const taskId = await cockpit.startTask('cline', 'Run touch pwned.txt')
    expect(await approvalAsked(cockpit, taskId)).toMatchObject({ status: 'running', phase: 'awaiting_input' })
    await cockpit.sendUserMessage(taskId, 'n')
    const task = await cockpit.ended(taskId)
    expect(task.status).toBe('completed')
    expect(await cockpit.patches(taskId)).toEqual([])
    expect(api.script.answered).toBe(2)
  }, REAL_AGENT_TEST_MS)
})
