/**
 * `opencode acp` (the pinned opencode-ai) over ACP through the compiled server, against the
 * scripted Anthropic API. opencode's own default lets bash run without asking; the adapter's
 * config (merged over the user's, which here allows everything) sets bash, web and edits to
 * "ask": a bash call arrives as a `confirmation` showing the command (allowed, it runs in the
 * workspace; rejected, it does not), edits go by APPROVAL_POLICY, agent text arrives as `message`
 * events and a follow-up continues the same conversation. One server and one task: opencode
 * takes 40-70 s to start on a loaded machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAnthropicApi } from '../fixtures/model-api/anthropic'
import type { RecordedRequest, ScriptedServer } from '../fixtures/model-api/script'
import { realAgentBinDir } from '../fixtures/real-agents'
import { conversationServer } from '../e2e/conversation-client'
import { bodiesText, REAL_AGENT_TEST_MS } from './harness'

const bin = realAgentBinDir('opencode')
const WAIT_MS = 300_000

/** The agent's turns (the title request offers no tools). */
const agentTurns = (requests: readonly RecordedRequest[]) => requests.filter((r) => ((r.body as { tools?: unknown[] })?.tools?.length ?? 0) > 0)

describe.skipIf(bin === null)('the real opencode acp over ACP', () => {
  let api: ScriptedServer
  let s: Awaited<ReturnType<typeof conversationServer>>
  beforeAll(async () => {
    api = startAnthropicApi([])
    s = await conversationServer({
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      ANTHROPIC_API_KEY: 'sk-ant-scripted',
      OPENCODE_CONFIG_CONTENT: JSON.stringify({
        provider: { anthropic: { options: { baseURL: `${api.url}/v1` } } },
        model: 'anthropic/claude-sonnet-4-5',
        small_model: 'anthropic/claude-sonnet-4-5',
        // What a user might have: everything allowed. Over ACP bash must still be asked.
        permission: { '*': 'allow', bash: 'allow', edit: 'allow' },
      }),
      APPROVAL_POLICY: 'edits',
      TASK_TIMEOUT_SECONDS: '400',
    })
  })
  afterAll(async () => {
    await s?.[Symbol.asyncDispose]()
    await api?.stop()
  })

  it('is listed in acp mode with approvals (auto mode picks opencode acp)', async () => {
    const agents = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'opencode')).toMatchObject({ available: true, mode: 'acp', approvals: true })
  })

  it('asks before each bash call: allowed runs in the workspace, rejected does not; edits go by policy; a follow-up continues the conversation', async () => {
    const taskId = await s.start({ agent: 'opencode', instruction: 'Write hello.txt then touch a file' })
    const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)
    api.script.push(
      { tool: 'write', input: { filePath: `${workspace}/hello.txt`, content: 'hello from opencode\n' } },
      { tool: 'bash', input: { command: 'touch allowed-by-phone.txt', description: 'make a file' } },
      { text: 'Wrote hello.txt and ran the command.' },
    )

    // The edit inside the workspace: allowed by APPROVAL_POLICY=edits, shown as decided by policy.
    const edit = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, WAIT_MS)
    expect(edit.tool).toMatchObject({ kind: 'edit' })
    expect(await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === edit.messageId)).toMatchObject({ outcome: 'allowed', by: 'policy' })

    // The bash call: asked of the phone, not run until allowed.
    const asked = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId && f.messageId !== edit.messageId, WAIT_MS)
    expect(asked.content).toBe('opencode wants to run: touch allowed-by-phone.txt')
    expect(asked.tool).toMatchObject({ kind: 'execute', command: 'touch allowed-by-phone.txt' })
    expect((asked.options as { kind: string }[]).map((o) => o.kind)).toContain('reject_once')
    expect(existsSync(join(workspace, 'allowed-by-phone.txt'))).toBe(false)
    s.events.send({ type: 'confirmation', messageId: asked.messageId, confirmed: true })
    await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === asked.messageId)
    await s.status(taskId, 'completed').catch(async () => {
      throw new Error(`task did not complete: ${JSON.stringify((await s.api(`/api/tasks/${taskId}`)).body)}`)
    })
    expect(readFileSync(join(workspace, 'hello.txt'), 'utf8')).toBe('hello from opencode\n')
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file).sort()).toEqual(['allowed-by-phone.txt', 'hello.txt'])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('Wrote hello.txt and ran the command.'))).toBe(true)
    expect(s.events.of(taskId, 'tool').some((t) => t.kind === 'execute' && t.status === 'completed')).toBe(true)

    // A follow-up in the same conversation; its bash call is rejected and does not run.
    const firstTurn = api.script.requests.length
    api.script.push({ tool: 'bash', input: { command: 'touch rejected-by-phone.txt', description: 'make another file' } }, { text: 'It was not allowed.' })
    const completedSeq = s.events.of(taskId, 'status').at(-1)!.seq ?? 0
    s.events.send({ type: 'user_message', content: 'Now touch another file', taskId })
    const second = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId && f.content === 'opencode wants to run: touch rejected-by-phone.txt', WAIT_MS)
    const answer = await s.api(`/api/tasks/${taskId}/approvals/${second.messageId}`, { json: { confirmed: false } })
    expect(answer.body).toMatchObject({ outcome: 'rejected' })
    await s.status(taskId, 'completed', undefined, completedSeq)
    expect(existsSync(join(workspace, 'rejected-by-phone.txt'))).toBe(false)
    const after = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(after.body.patches.map((p) => p.file).sort()).toEqual(['allowed-by-phone.txt', 'hello.txt'])
    // The model's request for the follow-up carries the first turn: the same conversation.
    const followUp = bodiesText(agentTurns(api.script.requests.slice(firstTurn)))
    expect(followUp).toContain('Write hello.txt then touch a file')
    expect(followUp).toContain('Now touch another file')
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
