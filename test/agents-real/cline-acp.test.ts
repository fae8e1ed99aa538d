import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { conversationServer } from '../e2e/conversation-client'
import { startOpenAiApi } from '../fixtures/model-api/openai'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS } from './harness'

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

    const taskId = await s.start({ instruction: 'Make rejected.txt with touch', agent: 'cline' })
    const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)
    const first = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, REAL_AGENT_TEST_MS)
    expect(first.content).toBe('cline wants to run: touch rejected.txt')
    expect(first.tool).toMatchObject({ kind: 'execute', command: 'touch rejected.txt' })
    expect((first.options as { kind: string }[]).map((o) => o.kind).sort()).toEqual(['allow_always', 'allow_once', 'reject_once'])
    s.events.send({ type: 'confirmation', messageId: first.messageId, confirmed: false })
    const completed = await s.status(taskId, 'completed')
    expect(s.events.of(taskId, 'confirmation_resolved')).toMatchObject([{ messageId: first.messageId, outcome: 'rejected', by: 'client' }])
    expect(existsSync(join(workspace, 'rejected.txt'))).toBe(false)
    expect((await s.api<{ patches: unknown[] }>(`/api/tasks/${taskId}/patches`)).body.patches).toEqual([])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('The command was refused.'))).toBe(true)

    s.events.send({ type: 'user_message', content: 'Now make allowed.txt', taskId })
    const second = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId && f.messageId !== first.messageId, REAL_AGENT_TEST_MS)
    expect(second.content).toBe('cline wants to run: touch allowed.txt')
    s.events.send({ type: 'confirmation', messageId: second.messageId, confirmed: true })
    await s.status(taskId, 'completed', undefined, completed.seq)
    expect(existsSync(join(workspace, 'allowed.txt'))).toBe(true)
    expect(existsSync(join(workspace, 'rejected.txt'))).toBe(false)
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['allowed.txt'])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('Made allowed.txt.'))).toBe(true)
    // The scripted API saw the provider's own key: the configured provider, not a hosted one.
    expect(api.script.requests.some((r) => r.headers.authorization === 'Bearer sk-scripted')).toBe(true)
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
