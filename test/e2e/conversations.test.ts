/**
 * "Agents and conversations" of the contract against the compiled binary: the mock agent over ACP
 * (the binary itself in another mode), real WebSocket and HTTP clients, the process table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { conversationServer, processesWith } from './conversation-client'

type Server = Awaited<ReturnType<typeof conversationServer>>

describe('a task in acp mode is a conversation', () => {
  let s: Server
  beforeAll(async () => {
    s = await conversationServer({ AGENT_IDLE_SECONDS: '2' })
  })
  afterAll(async () => {
    await s?.[Symbol.asyncDispose]()
  })

  it('lists the mock in acp mode with approvals', async () => {
    const { status, body } = await s.api<{ name: string; mode: string; approvals: boolean; available: boolean }[]>('/api/agents')
    expect(status).toBe(200)
    expect(body.find((a) => a.name === 'mock')).toMatchObject({ available: true, mode: 'acp', approvals: true })
    // No ACP entry point on this PATH: print mode is what a task would get, and it says so.
    expect(body.find((a) => a.name === 'aider')).toMatchObject({ mode: 'print', approvals: false })
  })

  it('echoes the instruction, streams the agent message and ends the turn completed with patches', async () => {
    const taskId = await s.start({ instruction: 'first turn', context: { mock: { edits: [{ file: 'a.txt', content: 'a\n' }] } } })
    const completed = await s.status(taskId, 'completed')
    const user = s.events.of(taskId, 'message').find((m) => m.role === 'user')
    expect(user).toMatchObject({ content: 'first turn' })
    const agent = s.events.of(taskId, 'message').find((m) => m.role === 'agent')!
    expect(agent.content).toContain('a.txt')
    expect(agent.seq!).toBeLessThan(completed.seq!)
    const tools = s.events.of(taskId, 'tool')
    expect(tools.map((t) => t.status)).toEqual(['in_progress', 'completed'])
    expect(tools[0]).toMatchObject({ kind: 'edit', locations: [{ path: expect.stringMatching(/\/a\.txt$/) }] })
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['a.txt'])
  })

  it('sends a follow-up to the same conversation, over the socket and over HTTP, and keeps the transcript', async () => {
    const taskId = await s.start({ instruction: 'talk to me' })
    const first = await s.status(taskId, 'completed')
    // Without taskId: the newest running-or-completed task.
    s.events.send({ type: 'user_message', content: 'second words', timestamp: 1 })
    const ack = await s.events.next((f) => f.type === 'ack' && f.for === 'user_message')
    expect(ack).toMatchObject({ taskId, started: false })
    expect(ack.seq).toBeUndefined()
    const running = await s.status(taskId, 'running', undefined, first.seq)
    const second = await s.status(taskId, 'completed', undefined, running.seq)
    expect(s.events.of(taskId, 'message').at(-1)).toMatchObject({ role: 'agent', content: 'turn 2: "second words"' })

    const posted = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'third words' } })
    expect(posted).toMatchObject({ status: 202, body: { taskId, started: false } })
    await s.status(taskId, 'completed', undefined, second.seq)
    const transcript = await s.api<{ messages: { role: string; content: string; messageId: string; ts: string }[] }>(`/api/tasks/${taskId}/messages`)
    expect(transcript.body.messages.map((m) => [m.role, m.content.split(',')[0]])).toEqual([
      ['user', 'talk to me'],
      ['agent', 'Done'],
      ['user', 'second words'],
      ['agent', 'turn 2: "second words"'],
      ['user', 'third words'],
      ['agent', 'turn 3: "third words"'],
    ])
    expect(new Set(transcript.body.messages.map((m) => m.messageId)).size).toBe(6)
  })

  it('queues follow-ups sent while a turn runs and sends them in order when it ends', async () => {
    const taskId = await s.start({ instruction: 'slow one', context: { mock: { delayMs: 1500 } } })
    await s.status(taskId, 'running', 'agent')
    const a = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'one' } })
    const b = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'two' } })
    expect(a.body).toMatchObject({ queued: true })
    expect(b.body).toMatchObject({ queued: true })
    await s.events.next((f) => f.type === 'message' && f.taskId === taskId && f.content === 'turn 3: "two"')
    const agentLines = s.events.of(taskId, 'message').filter((m) => m.role === 'agent').map((m) => String(m.content))
    expect(agentLines.slice(1)).toEqual(['turn 2: "one"', 'turn 3: "two"'])
  })

  it('stops an idle agent after AGENT_IDLE_SECONDS; the next follow-up starts it again and session/load continues the conversation', async () => {
    const marker = `idle-${crypto.randomUUID()}`
    const taskId = await s.start({ instruction: marker })
    const done = await s.status(taskId, 'completed')
    expect((await processesWith(marker)).length).toBeGreaterThan(0)
    const deadline = Date.now() + 15_000
    while ((await processesWith(marker)).length > 0 && Date.now() < deadline) await Bun.sleep(100)
    expect(await processesWith(marker)).toEqual([])
    await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'still there?' } })
    await s.status(taskId, 'completed', undefined, done.seq)
    const agentLines = s.events.of(taskId, 'message').filter((m) => m.role === 'agent' && (m.seq ?? 0) > done.seq!).map((m) => String(m.content))
    // The mock offers session/load: a new process, the same conversation (its turn count goes on).
    expect(agentLines).toEqual(['(mock was started again and continues the same conversation.)', 'turn 2: "still there?"'])
  })

  it('starts a fresh ACP session in the same workspace when the agent cannot load the old one, and says so', async () => {
    const marker = `fresh-${crypto.randomUUID()}`
    const taskId = await s.start({ instruction: marker, context: { mock: { edits: [{ file: 'kept.txt', content: 'kept\n' }] } } })
    const done = await s.status(taskId, 'completed')
    const deadline = Date.now() + 15_000
    while ((await processesWith(marker)).length > 0 && Date.now() < deadline) await Bun.sleep(100)
    // The mock's own record of its session goes: session/load now fails.
    rmSync(join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId, '.git', 'cockpit-mock-session.json'))
    await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'again' } })
    await s.status(taskId, 'completed', undefined, done.seq)
    const agentLines = s.events.of(taskId, 'message').filter((m) => m.role === 'agent' && (m.seq ?? 0) > done.seq!).map((m) => String(m.content))
    expect(agentLines[0]).toContain('fresh ACP session in the same workspace')
    expect(agentLines[0]).toContain('could not load the earlier session')
    const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
    expect(patches.body.patches.map((p) => p.file)).toEqual(['kept.txt'])
  })

  it('cancels a turn: session/cancel, the process group is gone, the task is cancelled', async () => {
    const marker = `cancel-${crypto.randomUUID()}`
    const taskId = await s.start({ instruction: marker, context: { mock: { delayMs: 60_000 } } })
    await s.status(taskId, 'running', 'agent')
    const deadline = Date.now() + 10_000
    while ((await processesWith(marker)).length === 0 && Date.now() < deadline) await Bun.sleep(50)
    expect((await processesWith(marker)).length).toBeGreaterThan(0)
    const began = performance.now()
    const cancelled = await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
    expect(performance.now() - began).toBeLessThan(5000)
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } })
    expect(await processesWith(marker)).toEqual([])
    const refused = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'more' } })
    expect(refused).toMatchObject({ status: 409, body: { error: 'task_finished' } })
  })

  it('refuses a follow-up after apply with 409, over HTTP and as an error frame', async () => {
    const taskId = await s.start({ instruction: 'to apply', context: { mock: { edits: [{ file: 'applied.txt', content: 'x\n' }] } } })
    await s.status(taskId, 'completed')
    expect((await s.api(`/api/tasks/${taskId}/apply`, { json: {} })).status).toBe(200)
    const refused = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'more' } })
    expect(refused.status).toBe(409)
    expect(refused.body.message).toContain('applied')
    s.events.send({ type: 'user_message', content: 'more', taskId })
    const error = await s.events.next((f) => f.type === 'error' && f.for === 'user_message' && String(f.message).includes(taskId))
    expect(error).toMatchObject({ error: 'task_finished' })
  })

  it('answers 404 for another session\'s task and 400 for an empty follow-up', async () => {
    const other = await s.server.pair()
    const taskId = await s.start({ instruction: 'mine' })
    const foreign = await fetch(`${s.server.baseUrl}/api/tasks/${taskId}/messages`, { headers: { authorization: `Bearer ${other.token}` } })
    expect(foreign.status).toBe(404)
    expect(await foreign.json()).toMatchObject({ error: 'task_not_found' })
    const empty = await s.api(`/api/tasks/${taskId}/messages`, { json: { content: '' } })
    expect([400, 422]).toContain(empty.status)
    expect(empty.body).toHaveProperty('error')
  })
})

describe('an agent that misbehaves ends the turn failed, naming it', () => {
  it('fails with the agent error when the mock is told to fail, and a follow-up starts it again', async () => {
    await using s = await conversationServer()
    const taskId = await s.start({ instruction: 'break', context: { mock: { fail: true, output: 'boom' } } })
    const failed = await s.status(taskId, 'failed')
    const task = await s.api<{ error: string }>(`/api/tasks/${taskId}`)
    expect(task.body.error).toContain('Agent mock answered session/prompt with an error')
    expect(task.body.error).toContain('boom')
    expect(s.events.of(taskId, 'error')[0]).toMatchObject({ message: task.body.error })
    await s.api(`/api/tasks/${taskId}/messages`, { json: { content: 'again' } })
    await s.status(taskId, 'running', undefined, failed.seq)
  })

  it('fails naming the exit when the agent dies, and within the bound when it never answers', async () => {
    await using dead = await conversationServer({ AGENT_MOCK_ACP_CMD: '/bin/sh -c "echo dying >&2; exit 3"' })
    const deadTask = await dead.start({ instruction: 'die' })
    await dead.status(deadTask, 'failed')
    expect((await dead.api<{ error: string }>(`/api/tasks/${deadTask}`)).body.error).toMatch(/Agent mock exited with code 3 during initialize: dying/)

    await using hung = await conversationServer({ AGENT_MOCK_ACP_CMD: '/bin/sleep 600', ACP_REQUEST_TIMEOUT_SECONDS: '1' })
    const began = performance.now()
    const hungTask = await hung.start({ instruction: 'hang' })
    await hung.status(hungTask, 'failed')
    expect(performance.now() - began).toBeLessThan(10_000)
    expect((await hung.api<{ error: string }>(`/api/tasks/${hungTask}`)).body.error).toContain('Agent mock did not answer initialize within ACP_REQUEST_TIMEOUT_SECONDS (1 s)')
  })

  it('runs the mock in print mode with AGENT_MOCK_MODE=print, as before', async () => {
    await using s = await conversationServer({ AGENT_MOCK_MODE: 'print' })
    const agents = await s.api<{ name: string; mode: string; approvals: boolean }[]>('/api/agents')
    expect(agents.body.find((a) => a.name === 'mock')).toMatchObject({ mode: 'print', approvals: false })
    const taskId = await s.start({ instruction: 'printed' })
    await s.status(taskId, 'completed')
    expect(s.events.of(taskId, 'exit')[0]).toMatchObject({ code: 0 })
    expect(s.events.of(taskId, 'message')).toEqual([])
  })
})
