/**
 * codex-acp (the pinned @zed-industries/codex-acp) over ACP through the compiled server, against
 * the scripted Responses API: the server authenticates with the key variable, every shell command
 * arrives as a `confirmation` (allowed, it runs in the workspace; rejected, it does not), edits go
 * by APPROVAL_POLICY, agent text arrives as `message` events and a follow-up continues the same
 * conversation. Its bundled codex core is older than codex 0.171: the model calls `exec_command`
 * and the free-form `apply_patch` directly (no `exec` code-mode tool).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startOpenAiApi } from '../fixtures/model-api/openai'
import type { ScriptedServer } from '../fixtures/model-api/script'
import { realAgentBinDir } from '../fixtures/real-agents'
import { conversationServer, type Frame } from '../e2e/conversation-client'
import { bodiesText, REAL_AGENT_TEST_MS } from './harness'

const bin = realAgentBinDir('codex-acp')
/** codex-acp tries a WebSocket five times (~7 s) before each HTTP turn, more under load. */
const WAIT_MS = 180_000

const posts = (api: ScriptedServer) => api.script.requests.filter((r) => r.method === 'POST')

describe.skipIf(bin === null)('the real codex-acp over ACP', () => {
  let api: ScriptedServer
  let s: Awaited<ReturnType<typeof conversationServer>>
  beforeAll(async () => {
    api = startOpenAiApi([])
    s = await conversationServer({
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      OPENAI_BASE_URL: `${api.url}/v1`,
      CODEX_API_KEY: 'sk-scripted',
      APPROVAL_POLICY: 'edits',
      TASK_TIMEOUT_SECONDS: '400',
    })
  })
  afterAll(async () => {
    await s?.[Symbol.asyncDispose]()
    await api?.stop()
  })

  it('is listed in acp mode with approvals (auto mode picks codex-acp)', async () => {
    const agents = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'codex')).toMatchObject({ available: true, mode: 'acp', approvals: true })
  })

  it('asks before each shell command: allowed runs in the workspace, rejected does not; edits go by policy; a follow-up continues the conversation', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n'
    api.script.push(
      { tool: 'apply_patch', input: patch },
      { tool: 'exec_command', input: { cmd: 'touch allowed-by-phone.txt' } },
      { text: 'Made hello.txt and ran the command.' },
    )
    const taskId = await s.start({ agent: 'codex', instruction: 'Create hello.txt then touch a file' })
    const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)

    // The edit inside the workspace: allowed by APPROVAL_POLICY=edits, shown as decided by policy.
    const edit = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, WAIT_MS)
    expect(edit.tool).toMatchObject({ kind: 'edit' })
    const editResolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === edit.messageId, WAIT_MS)
    expect(editResolved).toMatchObject({ outcome: 'allowed', by: 'policy' })

    // The shell command: asked of the phone, not run until allowed.
    const asked = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId && f.messageId !== edit.messageId, WAIT_MS)
    expect(asked.content).toBe('codex wants to run: touch allowed-by-phone.txt')
    expect(asked.tool).toMatchObject({ kind: 'execute', command: 'touch allowed-by-phone.txt' })
    expect((asked.options as { kind: string }[]).map((o) => o.kind)).toContain('reject_once')
    expect(existsSync(join(workspace, 'allowed-by-phone.txt'))).toBe(false)
    s.events.send({ type: 'confirmation', messageId: asked.messageId, confirmed: true })
    await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === asked.messageId)
    await s.status(taskId, 'completed', undefined, 0).catch(async () => {
      throw new Error(`task did not complete: ${JSON.stringify((await s.api(`/api/tasks/${taskId}`)).body)}`)
    })
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file).sort()).toEqual(['allowed-by-phone.txt', 'hello.txt'])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && m.content === 'Made hello.txt and ran the command.')).toBe(true)
    expect(s.events.of(taskId, 'tool').some((t) => t.kind === 'execute' && t.status === 'completed')).toBe(true)
    // The key reached codex through `authenticate`, the endpoint through `-c openai_base_url`.
    expect(posts(api).length).toBe(3)
    expect(posts(api)[0]!.headers.authorization).toBe('Bearer sk-scripted')

    // A follow-up in the same conversation; its command is rejected and does not run.
    const firstTurnPosts = posts(api).length
    api.script.push({ tool: 'exec_command', input: { cmd: 'touch rejected-by-phone.txt' } })
    const completedSeq = s.events.of(taskId, 'status').at(-1)!.seq ?? 0
    s.events.send({ type: 'user_message', content: 'Now touch another file', taskId })
    const second = await s.events.next((f: Frame) => f.type === 'confirmation' && f.taskId === taskId && f.content === 'codex wants to run: touch rejected-by-phone.txt', WAIT_MS)
    const answer = await s.api(`/api/tasks/${taskId}/approvals/${second.messageId}`, { json: { confirmed: false } })
    expect(answer.body).toMatchObject({ outcome: 'rejected' })
    await s.status(taskId, 'completed', undefined, completedSeq)
    expect(existsSync(join(workspace, 'rejected-by-phone.txt'))).toBe(false)
    // codex ends the turn on a rejection (stopReason cancelled): the conversation says so.
    expect(s.events.of(taskId, 'message').at(-1)).toMatchObject({ role: 'agent', content: '(codex stopped the turn; a follow-up goes on from here)' })
    const after = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(after.body.patches.map((p) => p.file).sort()).toEqual(['allowed-by-phone.txt', 'hello.txt'])
    // The model's request for the follow-up carries the first turn: the same conversation.
    const followUp = bodiesText(posts(api).slice(firstTurnPosts))
    expect(followUp).toContain('Create hello.txt then touch a file')
    expect(followUp).toContain('Now touch another file')
    expect(api.script.unexpected).toEqual([])
  }, REAL_AGENT_TEST_MS)
})
