import { describe, expect, it } from 'bun:test'
import { startAnthropicApi } from '../fixtures/model-api/anthropic'
import { realAgentBinDir } from '../fixtures/real-agents'
import { bodiesText, REAL_AGENT_TEST_MS, startRealCockpit } from './harness'

/**
 * Claude Code (the pinned @anthropic-ai/claude-code) in print mode through the compiled server,
 * pointed at the scripted Anthropic API with ANTHROPIC_BASE_URL and a dummy key.
 */
const bin = realAgentBinDir('claude')

describe.skipIf(bin === null)('the real claude in print mode', () => {
  it('writes the file the model asks for, and the patch applies as a real commit', async () => {
    await using api = startAnthropicApi([
      // Relative: claude resolves it against its cwd, the task's workspace.
      { tool: 'Write', input: { file_path: 'hello.txt', content: 'hello from claude\n' } },
      { text: 'I wrote hello.txt.' },
    ])
    await using cockpit = await startRealCockpit(bin!, { ANTHROPIC_BASE_URL: api.url, ANTHROPIC_API_KEY: 'sk-ant-scripted' })
    const taskId = await cockpit.startTask('claude', 'Create hello.txt saying hello')
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 1 })
    const patches = await cockpit.patches(taskId)
    expect(patches.map((p) => [p.file, p.type])).toEqual([['hello.txt', 'added']])
    expect(patches[0]!.hunks[0]!.lines).toEqual(['+hello from claude'])
    // The second turn carried the instruction and the tool result of the first.
    const turns = api.script.requests.filter((r) => (r.body as { tools?: unknown[] })?.tools?.length)
    expect(turns.length).toBeGreaterThanOrEqual(2)
    expect(bodiesText(turns.slice(-1))).toContain('Create hello.txt saying hello')
    expect(api.script.unexpected).toEqual([])
    await cockpit.applyAndCommit(taskId, 'Add hello.txt from claude')
  }, REAL_AGENT_TEST_MS)

  it('does not run a shell command the model asks for', async () => {
    await using api = startAnthropicApi([
      { tool: 'Bash', input: { command: 'touch pwned.txt', description: 'touch a file' } },
      { tool: 'Bash', input: { command: 'echo pwned > pwned2.txt', description: 'write a file' } },
      { text: 'Could not run it.' },
    ])
    await using cockpit = await startRealCockpit(bin!, { ANTHROPIC_BASE_URL: api.url, ANTHROPIC_API_KEY: 'sk-ant-scripted' })
    const taskId = await cockpit.startTask('claude', 'Run touch pwned.txt')
    const task = await cockpit.ended(taskId)
    expect(task.status).toBe('completed')
    expect(await cockpit.patches(taskId)).toEqual([])
    // Bash is not even offered, and the call is answered as an error, not run.
    const turns = api.script.requests.filter((r) => (r.body as { tools?: unknown[] })?.tools?.length)
    const offered = (turns[0]!.body as { tools: { name: string }[] }).tools.map((t) => t.name)
    expect(offered).toContain('Write')
    expect(offered).not.toContain('Bash')
    expect(bodiesText(turns.slice(-1))).toContain('No such tool available: Bash')
    expect(api.script.answered).toBe(3)
  }, REAL_AGENT_TEST_MS)
})
