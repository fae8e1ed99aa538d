import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { conversationServer } from '../e2e/conversation-client'
import { startGeminiApi } from '../fixtures/model-api/gemini'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS, rejectThenAllow } from './harness'

/**
 * `gemini --acp` (the pinned @google/gemini-cli) through the compiled server in auto mode, pointed
 * at the scripted Gemini API. Its user settings select the API-key method, as the print-mode test
 * explains. One conversation (one gemini start, ~20 s) carries both halves: the first shell
 * command is rejected from the phone and does not run, the follow-up's is allowed and runs.
 */
const bin = realAgentBinDir('gemini')

describe.skipIf(bin === null)('the real gemini over ACP', () => {
  it('asks before each shell command: rejected it does not run, allowed it runs; text arrives as messages', async () => {
    await using api = startGeminiApi([
      { tool: 'run_shell_command', input: { command: 'touch rejected.txt' } },
      { text: 'The command was refused.' },
      { tool: 'run_shell_command', input: { command: 'touch allowed.txt' } },
      { text: 'Made allowed.txt.' },
    ])
    await using s = await conversationServer({ PATH: `${bin}:/usr/bin:/bin`, GOOGLE_GEMINI_BASE_URL: api.url, GEMINI_API_KEY: 'scripted-key', TASK_TIMEOUT_SECONDS: '400' })
    await Bun.write(join(s.server.dir, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }))
    const agents = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'gemini')).toMatchObject({ available: true, mode: 'acp', approvals: true })

    const taskId = await rejectThenAllow(s, 'gemini')
    expect(s.events.of(taskId, 'tool').some((t) => t.kind === 'execute' && t.status === 'completed')).toBe(true)
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
