import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { conversationServer } from '../e2e/conversation-client'
import { startGeminiApi } from '../fixtures/model-api/gemini'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS } from './harness'

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

    const taskId = await s.start({ instruction: 'Make rejected.txt with touch', agent: 'gemini' })
    const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)
    const first = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, REAL_AGENT_TEST_MS)
    expect(first.content).toBe('gemini wants to run: touch rejected.txt')
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
    expect(second.content).toBe('gemini wants to run: touch allowed.txt')
    s.events.send({ type: 'confirmation', messageId: second.messageId, confirmed: true })
    await s.status(taskId, 'completed', undefined, completed.seq)
    expect(existsSync(join(workspace, 'allowed.txt'))).toBe(true)
    expect(existsSync(join(workspace, 'rejected.txt'))).toBe(false)
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['allowed.txt'])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('Made allowed.txt.'))).toBe(true)
    expect(s.events.of(taskId, 'tool').some((t) => t.kind === 'execute' && t.status === 'completed')).toBe(true)
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
