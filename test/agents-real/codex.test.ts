import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startOpenAiApi } from '../fixtures/model-api/openai'
import { realAgentBinDir } from '../fixtures/real-agents'
import { bodiesText, REAL_AGENT_TEST_MS, startRealCockpit } from './harness'

/**
 * OpenAI Codex (the pinned @openai/codex) in `codex exec` mode through the compiled server,
 * pointed at the scripted Responses API (OPENAI_BASE_URL becomes `-c openai_base_url=`). codex
 * 0.17x gives the model one free-form `exec` tool that runs JavaScript calling its nested tools
 * (`tools.apply_patch`, `tools.exec_command`).
 */
const bin = realAgentBinDir('codex')

const execJs = (code: string) => ({ tool: 'exec', input: code })

describe.skipIf(bin === null)('the real codex in print mode', () => {
  it('applies the patch the model writes, and the patch applies as a real commit', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n'
    await using api = startOpenAiApi([execJs(`text(await tools.apply_patch(${JSON.stringify(patch)}))`), { text: 'I added hello.txt.' }])
    await using cockpit = await startRealCockpit(bin!, { OPENAI_BASE_URL: `${api.url}/v1`, CODEX_API_KEY: 'sk-scripted' })
    const taskId = await cockpit.startTask('codex', 'Create hello.txt saying hello')
    const task = await cockpit.ended(taskId)
    expect(task).toMatchObject({ status: 'completed', exitCode: 0, patchCount: 1 })
    const patches = await cockpit.patches(taskId)
    expect(patches.map((p) => [p.file, p.type])).toEqual([['hello.txt', 'added']])
    expect(patches[0]!.hunks[0]!.lines).toEqual(['+hello from codex'])
    const turns = api.script.requests.filter((r) => r.method === 'POST')
    expect(bodiesText(turns.slice(-1))).toContain('Create hello.txt saying hello')
    expect(api.script.answered).toBe(2)
    await cockpit.applyAndCommit(taskId, 'Add hello.txt from codex')
  }, REAL_AGENT_TEST_MS)

  it('runs commands only inside its sandbox: the workspace is writable, the rest of the disk and the network are not', async () => {
    await using api = startOpenAiApi([])
    await using cockpit = await startRealCockpit(bin!, { OPENAI_BASE_URL: `${api.url}/v1`, CODEX_API_KEY: 'sk-scripted' })
    const outside = join(cockpit.home, 'outside.txt')
    const port = new URL(api.url).port
    const command = [
      'touch inside.txt',
      `touch ${outside}`,
      `touch /tmp/cockpit-codex-escape-${port}`,
      `(exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET /sandbox-escape HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3)`,
      'echo finished',
    ].join('; ')
    api.script.push(execJs(`text(await tools.exec_command({ cmd: ${JSON.stringify(command)} }))`), { text: 'Ran it.' })
    const taskId = await cockpit.startTask('codex', 'Run the command')
    const task = await cockpit.ended(taskId)
    expect(task.status).toBe('completed')
    expect(api.script.answered).toBe(2)
    // The command ran (codex's contract exception), confined to the task workspace.
    expect((await cockpit.patches(taskId)).map((p) => p.file)).toEqual(['inside.txt'])
    expect(existsSync(outside)).toBe(false)
    expect(existsSync(`/tmp/cockpit-codex-escape-${port}`)).toBe(false)
    expect(api.script.requests.filter((r) => r.path.includes('sandbox-escape'))).toEqual([])
    // What the sandbox answered went back to the model.
    expect(bodiesText(api.script.requests.slice(-1))).toContain('Read-only file system')
  }, REAL_AGENT_TEST_MS)
})
