import { describe, expect, it } from 'bun:test'
import { conversationServer } from '../e2e/conversation-client'
import { startOpenAiApi } from '../fixtures/model-api/openai'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS, rejectThenAllow } from './harness'

/**
 * `cline --acp` (the pinned cline) through the compiled server in auto mode, its provider
 * configured the way a user does it (`cline auth openai -k … -b …`, the base URL being the
 * scripted OpenAI-compatible API): the adapter hands that provider to the ACP mode, which does not
 * read it by itself. One conversation carries both halves: the first command is rejected from
 * the phone and does not run, the follow-up's is allowed and runs.
 */
const bin = realAgentBinDir('cline')

describe.skipIf(bin === null)('the real cline over ACP', () => {
  it('asks before each command: rejected it does not run, allowed it runs; text arrives as messages', async () => {
    await using api = startOpenAiApi([
      { tool: 'run_commands', input: { commands: ['touch rejected.txt'] } },
      { text: 'The command was refused.' },
      { tool: 'run_commands', input: { commands: ['touch allowed.txt'] } },
      { text: 'Made allowed.txt.' },
    ])
    await using s = await conversationServer({ PATH: `${bin}:/usr/bin:/bin`, TASK_TIMEOUT_SECONDS: '400' })
    const auth = Bun.spawn([`${bin}/cline`, 'auth', 'openai', '-k', 'sk-scripted', '-b', `${api.url}/v1`, '-m', 'gpt-scripted'], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: s.server.dir },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(`${await auth.exited} ${await new Response(auth.stderr).text()}`.trim()).toBe('0')
    const agents = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'cline')).toMatchObject({ available: true, mode: 'acp', approvals: true })

    await rejectThenAllow(s, 'cline')
    // The scripted API saw the provider's own key: the configured provider, not a hosted one.
    expect(api.script.requests.some((r) => r.headers.authorization === 'Bearer sk-scripted')).toBe(true)
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
