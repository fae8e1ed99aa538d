import { describe, expect, it } from 'bun:test'
import { startGeminiApi } from '../fixtures/model-api/gemini'
import type { RecordedRequest } from '../fixtures/model-api/script'
import { realAgentBinDir } from '../fixtures/real-agents'
import { bodiesText, REAL_AGENT_TEST_MS, startRealCockpit, type RealCockpit } from './harness'

/**
 * Gemini CLI (the pinned @google/gemini-cli) in headless mode through the compiled server,
 * pointed at the scripted Gemini API with GOOGLE_GEMINI_BASE_URL. gemini 0.61 turns that variable
 * alone into its "gateway" auth type and then refuses it ("Invalid auth method selected."), so
 * the user's settings select the API-key method, as `gemini` does after picking "Gemini API key".
 */
const bin = realAgentBinDir('gemini')

function useApiKeyAuth(cockpit: RealCockpit): void {
  cockpit.writeHomeFile('.gemini/settings.json', JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }))
}

const agentTurns = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.path.includes(':streamGenerateContent'))

describe.skipIf(bin === null)('the real gemini in print mode', () => {
  it('writes the file the model asks for in the fresh (untrusted) workspace, and the patch applies as a real commit', async () => {
    await using api = startGeminiApi([])
    await using cockpit = await startRealCockpit(bin!, { GOOGLE_GEMINI_BASE_URL: api.url, GEMINI_API_KEY: 'scripted-key' })
    useApiKeyAuth(cockpit)
    const taskId = await cockpit.startTask('gemini', 'Create hello.txt saying hello')
    // write_file wants an absolute path inside the workspace, known once the task exists.
    const workspace = await cockpit.workspaceOf(taskId)
    api.script.push({ tool: 'write_file', input: { file_path: `${workspace}/hello.txt`, content: 'hello from gemini\n' } }, { text: 'I wrote hello.txt.' })
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 1 })
    const patches = await cockpit.patches(taskId)
    expect(patches.map((p) => [p.file, p.type])).toEqual([['hello.txt', 'added']])
    expect(patches[0]!.hunks[0]!.lines).toEqual(['+hello from gemini'])
    expect(bodiesText(agentTurns(api.script.requests).slice(-1))).toContain('Create hello.txt saying hello')
    expect(api.script.unexpected).toEqual([])
    await cockpit.applyAndCommit(taskId, 'Add hello.txt from gemini')
  }, REAL_AGENT_TEST_MS)

  it('does not run a shell command the model asks for', async () => {
    await using api = startGeminiApi([{ tool: 'run_shell_command', input: { command: 'touch pwned.txt' } }, { text: 'Could not run it.' }])
    await using cockpit = await startRealCockpit(bin!, { GOOGLE_GEMINI_BASE_URL: api.url, GEMINI_API_KEY: 'scripted-key' })
    useApiKeyAuth(cockpit)
    const taskId = await cockpit.startTask('gemini', 'Run touch pwned.txt')
    const task = await cockpit.ended(taskId)
    expect(task.status).toBe('completed')
    expect(await cockpit.patches(taskId)).toEqual([])
    const turns = agentTurns(api.script.requests)
    const offered = (turns[0]!.body as { tools: { functionDeclarations: { name: string }[] }[] }).tools.flatMap((t) => t.functionDeclarations.map((f) => f.name))
    expect(offered).toContain('write_file')
    expect(offered).not.toContain('run_shell_command')
    expect(bodiesText(turns.slice(-1))).toContain('run_shell_command')
    expect(api.script.answered).toBe(2)
  }, REAL_AGENT_TEST_MS)
})
