import { describe, expect, it } from 'bun:test'
import { startGeminiApi } from '../fixtures/model-api/gemini'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS, startRealCockpit } from './harness'

/**
 * The safety net behind `--skip-trust`: an operator's AGENT_GEMINI_CMD without it makes the real
 * gemini distrust the fresh task workspace. On the task's terminal it then drops to the
 * `default` approval mode, loses write_file and still exits 0; the task must end `failed` saying
 * why, not `completed` with nothing in it.
 */
const bin = realAgentBinDir('gemini')

describe.skipIf(bin === null)('the real gemini in a folder it does not trust', () => {
  it('fails the task naming the untrusted folder and the fix, with no patch', async () => {
    await using api = startGeminiApi([])
    await using cockpit = await startRealCockpit(bin!, {
      GOOGLE_GEMINI_BASE_URL: api.url,
      GEMINI_API_KEY: 'scripted-key',
      AGENT_GEMINI_CMD: 'gemini --approval-mode auto_edit --prompt={instruction}',
    })
    cockpit.writeHomeFile('.gemini/settings.json', JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }))
    const taskId = await cockpit.startTask('gemini', 'Create hello.txt saying hello')
    const workspace = await cockpit.workspaceOf(taskId)
    api.script.push({ tool: 'write_file', input: { file_path: `${workspace}/hello.txt`, content: 'hello\n' } }, { text: 'I wrote hello.txt.' })
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'failed', patchCount: 0 })
    expect(task.error).toContain('untrusted')
    expect(task.error).toContain('Approval mode overridden to "default"')
    expect(task.error).toContain('--skip-trust')
    expect(await cockpit.patches(taskId)).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
