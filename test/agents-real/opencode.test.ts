import { describe, expect, it } from 'bun:test'
import { startAnthropicApi } from '../fixtures/model-api/anthropic'
import type { RecordedRequest } from '../fixtures/model-api/script'
import { realAgentBinDir } from '../fixtures/real-agents'
import { bodiesText, REAL_AGENT_TEST_MS, startRealCockpit } from './harness'

/**
 * opencode (the pinned opencode-ai) in `opencode run` mode through the compiled server. The user's
 * configuration (OPENCODE_CONFIG_CONTENT, passed through and merged with the adapter's print-mode
 * permissions) points its Anthropic provider at the scripted Anthropic API.
 */
const bin = realAgentBinDir('opencode')

function userConfig(apiUrl: string): string {
  return JSON.stringify({
    provider: { anthropic: { options: { baseURL: `${apiUrl}/v1` } } },
    model: 'anthropic/claude-sonnet-4-5',
    small_model: 'anthropic/claude-sonnet-4-5',
    // What a user might have: everything allowed. Print mode must still deny bash.
    permission: { '*': 'allow', bash: 'allow' },
  })
}

const agentTurns = (requests: readonly RecordedRequest[]) => requests.filter((r) => ((r.body as { tools?: unknown[] })?.tools?.length ?? 0) > 0)

describe.skipIf(bin === null)('the real opencode in print mode', () => {
  it('writes the file the model asks for, gets the instruction unquoted, and the patch applies as a real commit', async () => {
    await using api = startAnthropicApi([])
    await using cockpit = await startRealCockpit(bin!, { ANTHROPIC_API_KEY: 'sk-ant-scripted', OPENCODE_CONFIG_CONTENT: userConfig(api.url) })
    const taskId = await cockpit.startTask('opencode', 'Create hello.txt saying hello')
    const workspace = await cockpit.workspaceOf(taskId)
    api.script.push({ tool: 'write', input: { filePath: `${workspace}/hello.txt`, content: 'hello from opencode\n' } }, { text: 'I wrote hello.txt.' })
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 1 })
    const patches = await cockpit.patches(taskId)
    expect(patches.map((p) => [p.file, p.type])).toEqual([['hello.txt', 'added']])
    expect(patches[0]!.hunks[0]!.lines).toEqual(['+hello from opencode'])
    const lastTurn = bodiesText(agentTurns(api.script.requests).slice(-1))
    expect(lastTurn).toContain('"text":"Create hello.txt saying hello"')
    expect(api.script.unexpected).toEqual([])
    await cockpit.applyAndCommit(taskId, 'Add hello.txt from opencode')
  }, REAL_AGENT_TEST_MS)

  it('does not run a shell command the model asks for, whatever the user config allows', async () => {
    await using api = startAnthropicApi([{ tool: 'bash', input: { command: 'touch pwned.txt', description: 'touch a file' } }, { text: 'Could not run it.' }])
    await using cockpit = await startRealCockpit(bin!, { ANTHROPIC_API_KEY: 'sk-ant-scripted', OPENCODE_CONFIG_CONTENT: userConfig(api.url) })
    const taskId = await cockpit.startTask('opencode', 'Run touch pwned.txt')
    const task = await cockpit.ended(taskId)
    expect(task.status).toBe('completed')
    expect(await cockpit.patches(taskId)).toEqual([])
    const turns = agentTurns(api.script.requests)
    const offered = (turns[0]!.body as { tools: { name: string }[] }).tools.map((t) => t.name)
    expect(offered).toContain('write')
    expect(offered).not.toContain('bash')
    expect(bodiesText(turns.slice(-1))).toContain("unavailable tool 'bash'")
    expect(api.script.answered).toBe(2)
  }, REAL_AGENT_TEST_MS)
})
