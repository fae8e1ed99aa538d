/**
 * The real Claude Code CLIs against a scripted Anthropic API on loopback (no key, no network),
 * through the compiled binary: claude-agent-acp over ACP (approvals, messages, follow-ups,
 * cancel) and claude in print mode (a file written, its patch, apply's commit). The CLIs come
 * from `~/.cache/cockpit-coder/agents` (the install-agents script); without them these tests are
 * skipped, unless REQUIRE_REAL_AGENTS=1 (CI) makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { gitCli } from '../fixtures/app'
import { startAnthropicApi } from '../fixtures/model-api/anthropic-conversation'
import { conversationServer, processesIn } from './conversation-client'

const AGENTS_BIN = process.env.COCKPIT_AGENTS_BIN ?? join(homedir(), '.cache', 'cockpit-coder', 'agents', 'bin')
const installed = existsSync(join(AGENTS_BIN, 'claude-agent-acp')) && existsSync(join(AGENTS_BIN, 'claude'))
if (!installed && process.env.REQUIRE_REAL_AGENTS === '1') throw new Error(`claude and claude-agent-acp are not in ${AGENTS_BIN}; run bun run install-agents`)

/** Starting Claude Code takes 10-20 s on a busy 2-core machine. */
const SLOW = 180_000

describe.skipIf(!installed)('claude-agent-acp against the scripted Anthropic API', () => {
  let api: ReturnType<typeof startAnthropicApi>
  let s: Awaited<ReturnType<typeof conversationServer>>
  beforeAll(async () => {
    api = startAnthropicApi()
    s = await conversationServer({
      PATH: `${AGENTS_BIN}:${process.env.PATH}`,
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: 'sk-ant-scripted',
      APPROVAL_POLICY: 'edits',
    })
  })
  afterAll(async () => {
    await s?.[Symbol.asyncDispose]()
    api?.[Symbol.dispose]()
  })

  it('lists claude in acp mode with approvals', async () => {
    const agents = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'claude')).toMatchObject({ available: true, mode: 'acp', approvals: true })
  })

  it('asks before the scripted Bash call, runs it in the workspace when allowed, and streams the agent text', async () => {
    api.push({ tool: 'Bash', input: { command: 'touch allowed-by-phone.txt', description: 'make a file' } })
    const taskId = await s.start({ instruction: 'make the file', agent: 'claude' })
    const confirmation = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, SLOW)
    expect(confirmation.content).toBe('claude wants to run: touch allowed-by-phone.txt')
    expect(confirmation.tool).toMatchObject({ kind: 'execute', command: 'touch allowed-by-phone.txt' })
    expect((confirmation.options as { kind: string }[]).map((o) => o.kind).sort()).toEqual(['allow_always', 'allow_once', 'reject_once'])
    s.events.send({ type: 'confirmation', messageId: confirmation.messageId, confirmed: true })
    await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === confirmation.messageId)
    await s.status(taskId, 'completed')
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['allowed-by-phone.txt'])
    expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('The tool said'))).toBe(true)
    expect(s.events.of(taskId, 'tool').some((t) => t.kind === 'execute' && t.status === 'completed')).toBe(true)

    // A follow-up reaches the same conversation: the model sees the earlier turn.
    api.push({ text: 'Second answer' })
    const before = s.events.frames.length
    s.events.send({ type: 'user_message', content: 'and now?', taskId })
    await s.events.next((f) => f.type === 'message' && f.taskId === taskId && f.content === 'Second answer', SLOW)
    const seen = api.lastUserTexts().join('\n')
    expect(seen).toContain('make the file')
    expect(seen).toContain('and now?')
    expect(s.events.frames.length).toBeGreaterThan(before)
  }, SLOW)

  it('does not run the Bash call when it is rejected', async () => {
    api.push({ tool: 'Bash', input: { command: 'touch rejected-by-phone.txt', description: 'make a file' } })
    const taskId = await s.start({ instruction: 'try to make the file', agent: 'claude' })
    const confirmation = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, SLOW)
    const answer = await s.api(`/api/tasks/${taskId}/approvals/${confirmation.messageId}`, { json: { confirmed: false } })
    expect(answer.body).toMatchObject({ outcome: 'rejected' })
    await s.status(taskId, 'completed')
    const patches = await s.api<{ patches: unknown[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches).toEqual([])
  }, SLOW)

  it('cancels mid-turn while the model is thinking: the task is cancelled and no claude process is left', async () => {
    api.slow(120_000)
    try {
      const asked = api.nextRequest()
      const taskId = await s.start({ instruction: 'think for a long time', agent: 'claude' })
      await asked
      // This task's workspace only: the earlier conversations' agents idle in theirs (AGENT_IDLE_SECONDS).
      const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)
      expect((await processesIn(workspace)).length).toBeGreaterThan(0)
      const cancelled = await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
      expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } })
      expect(await processesIn(workspace)).toEqual([])
    } finally {
      api.slow(0)
    }
  }, SLOW)
})

describe.skipIf(!installed)('claude in print mode against the scripted Anthropic API', () => {
  it('writes a file, shows its patch, and apply commits it', async () => {
    // Claude Code's Write tool takes an absolute path: $CWD is the workspace its system prompt names.
    using api = startAnthropicApi([{ tool: 'Write', input: { file_path: '$CWD/notes.txt', content: 'written by claude\n' } }])
    await using s = await conversationServer({
      PATH: `${AGENTS_BIN}:${process.env.PATH}`,
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: 'sk-ant-scripted',
      AGENT_CLAUDE_MODE: 'print',
    })
    const taskId = await s.start({ instruction: 'write the file', agent: 'claude' })
    await s.status(taskId, 'completed').catch(async () => {
      throw new Error(`task did not complete: ${JSON.stringify((await s.api(`/api/tasks/${taskId}`)).body)}`)
    })
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['notes.txt'])
    const applied = await s.api<{ commit: string }>(`/api/tasks/${taskId}/apply`, { json: { commitMessage: 'claude wrote notes' } })
    expect(applied.status).toBe(200)
    expect(gitCli(s.server.repo, 'log', '-1', '--format=%H %s').trim()).toBe(`${applied.body.commit} claude wrote notes`)
  }, SLOW)
})

describe.skipIf(!installed)('claude-agent-acp without credentials', () => {
  it('fails the turn naming the variables to set', async () => {
    await using s = await conversationServer({ PATH: `${AGENTS_BIN}:${process.env.PATH}` })
    const taskId = await s.start({ instruction: 'no key here', agent: 'claude' })
    await s.status(taskId, 'failed')
    const task = await s.api<{ error: string }>(`/api/tasks/${taskId}`)
    expect(task.body.error).toContain('Agent claude')
    expect(task.body.error).toContain('ANTHROPIC_API_KEY')
  }, SLOW)
})
