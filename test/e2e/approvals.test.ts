/**
 * "Approvals" of the contract against the compiled binary: the mock agent asks over ACP
 * (session/request_permission), clients answer over /ws/events or HTTP, the policy decides the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { conversationServer, EventsClient, processesWith, type Frame } from './conversation-client'

type Server = Awaited<ReturnType<typeof conversationServer>>

const askToRun = (file = 'ran.txt') => ({
  mock: { ask: { title: 'Run the tests', kind: 'execute', command: 'npm test' }, edits: [{ file, content: 'ran\n' }] },
})

async function patchedFiles(s: Server, taskId: string): Promise<string[]> {
  return (await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)).body.patches.map((p) => p.file)
}

describe('approvals asked of the clients (APPROVAL_POLICY=edits)', () => {
  let s: Server
  beforeAll(async () => {
    s = await conversationServer()
  })
  afterAll(async () => {
    await s?.[Symbol.asyncDispose]()
  })

  async function asked(taskId: string): Promise<Frame> {
    return s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId)
  }

  it('turns a permission request into a confirmation with the command, and phase awaiting_approval', async () => {
    const taskId = await s.start({ instruction: 'ask me', context: askToRun() })
    const confirmation = await asked(taskId)
    expect(confirmation).toMatchObject({
      content: 'mock wants to run: npm test',
      tool: { title: 'Run the tests', kind: 'execute', command: 'npm test' },
      options: [
        { optionId: 'allow_once', kind: 'allow_once' },
        { optionId: 'allow_always', kind: 'allow_always' },
        { optionId: 'reject_once', kind: 'reject_once' },
      ],
    })
    expect(Date.parse(String(confirmation.expiresAt))).toBeGreaterThan(Date.now() + 800_000)
    await s.status(taskId, 'running', 'awaiting_approval')
    expect((await s.api(`/api/tasks/${taskId}`)).body).toMatchObject({ status: 'running', phase: 'awaiting_approval' })
    const listed = await s.api<{ approvals: Record<string, unknown>[] }>(`/api/tasks/${taskId}/approvals`)
    expect(listed.body.approvals).toEqual([expect.objectContaining({ messageId: confirmation.messageId, status: 'pending', content: confirmation.content })])
    await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
  })

  it("allows with the app's own confirmation frame: the agent gets allow_once and makes its edits", async () => {
    const taskId = await s.start({ instruction: 'allow me', context: askToRun('allowed.txt') })
    const { messageId } = await asked(taskId)
    s.events.send({ type: 'confirmation', messageId, confirmed: true })
    const ack = await s.events.next((f) => f.type === 'ack' && f.for === 'confirmation' && f.messageId === messageId)
    expect(ack).toMatchObject({ outcome: 'allowed' })
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === messageId)
    expect(resolved).toMatchObject({ taskId, outcome: 'allowed', optionId: 'allow_once', by: 'client' })
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual(['allowed.txt'])
    // First answer wins: a second one is refused on both paths, naming how it was resolved.
    s.events.send({ type: 'confirmation', messageId, confirmed: false })
    const late = await s.events.next((f) => f.type === 'error' && f.for === 'confirmation' && f.messageId === messageId)
    expect(late.message).toContain('already allowed by client')
    const http = await s.api(`/api/tasks/${taskId}/approvals/${messageId}`, { json: { confirmed: false } })
    expect(http).toMatchObject({ status: 409, body: { error: 'approval_resolved' } })
  })

  it('rejects over HTTP: the agent makes no edits and says so', async () => {
    const taskId = await s.start({ instruction: 'reject me', context: askToRun('rejected.txt') })
    const { messageId } = await asked(taskId)
    const answer = await s.api(`/api/tasks/${taskId}/approvals/${messageId}`, { json: { confirmed: false } })
    expect(answer).toMatchObject({ status: 200, body: { messageId, outcome: 'rejected' } })
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual([])
    expect(s.events.of(taskId, 'message').at(-1)!.content).toContain('Permission refused')
    const listed = await s.api<{ approvals: Record<string, unknown>[] }>(`/api/tasks/${taskId}/approvals`)
    expect(listed.body.approvals[0]).toMatchObject({ status: 'rejected', optionId: 'reject_once', by: 'client', resolvedAt: expect.any(String) })
  })

  it('takes an explicit optionId, and refuses one the agent did not offer with 400', async () => {
    const taskId = await s.start({ instruction: 'options', context: askToRun('always.txt') })
    const { messageId } = await asked(taskId)
    const bad = await s.api(`/api/tasks/${taskId}/approvals/${messageId}`, { json: { confirmed: true, optionId: 'sudo' } })
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_option' } })
    s.events.send({ type: 'confirmation', messageId, confirmed: true, optionId: 'allow_always' })
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === messageId)
    expect(resolved).toMatchObject({ outcome: 'allowed', optionId: 'allow_always', by: 'client' })
  })

  it('answers unknown ids with 404 and an error frame, and the socket stays open', async () => {
    const taskId = await s.start({ instruction: 'nothing to ask' })
    const http = await s.api(`/api/tasks/${taskId}/approvals/approval-nope`, { json: { confirmed: true } })
    expect(http).toMatchObject({ status: 404, body: { error: 'approval_not_found' } })
    s.events.send({ type: 'confirmation', messageId: 'approval-nope', confirmed: true })
    const error = await s.events.next((f) => f.type === 'error' && f.messageId === 'approval-nope')
    expect(error).toMatchObject({ for: 'confirmation', error: 'approval_not_found' })
    s.events.send({ type: 'confirmation', messageId: 'x' })
    await s.events.next((f) => f.type === 'error' && f.for === 'confirmation' && f.error === 'bad_frame')
    s.events.send({ type: 'ping' })
    await s.events.next((f) => f.type === 'pong')
  })

  it("refuses another session's approval with 404", async () => {
    const taskId = await s.start({ instruction: 'private', context: askToRun() })
    const { messageId } = await asked(taskId)
    const other = await s.server.pair()
    const response = await fetch(`${s.server.baseUrl}/api/tasks/${taskId}/approvals/${messageId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.token}` },
      body: JSON.stringify({ confirmed: true }),
    })
    expect(response.status).toBe(404)
    const otherEvents = await EventsClient.open(other.ws.events, other.sessionId, other.token)
    otherEvents.send({ type: 'confirmation', messageId, confirmed: true })
    expect(await otherEvents.next((f) => f.type === 'error')).toMatchObject({ error: 'approval_not_found' })
    otherEvents.close()
    await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
  })

  it('keeps a pending approval across a client disconnect: the reconnecting client gets it in the replay and answers', async () => {
    const watcher = await EventsClient.open(s.pairing.ws.events, s.pairing.sessionId, s.pairing.token)
    const resume = await watcher.next((f) => f.type === 'resume')
    watcher.close()
    const taskId = await s.start({ instruction: 'while away', context: askToRun('later.txt') })
    const { messageId } = await asked(taskId)
    const back = await EventsClient.open(s.pairing.ws.events, s.pairing.sessionId, s.pairing.token, { seq: Number(resume.lastSeq ?? resume.seq), epoch: String(resume.epoch) })
    const replayed = await back.next((f) => f.type === 'confirmation' && f.messageId === messageId)
    expect(replayed.seq).toBeGreaterThan(0)
    back.send({ type: 'confirmation', messageId, confirmed: true })
    await back.next((f) => f.type === 'confirmation_resolved' && f.messageId === messageId)
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual(['later.txt'])
    back.close()
  })

  it('resolves a pending approval as cancelled when the task is cancelled, and leaves no agent process', async () => {
    const marker = `cancel-approval-${crypto.randomUUID()}`
    const taskId = await s.start({ instruction: marker, context: askToRun() })
    const { messageId } = await asked(taskId)
    expect((await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })).status).toBe(200)
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === messageId)
    expect(resolved).toMatchObject({ outcome: 'cancelled', by: 'cancel' })
    expect(resolved.optionId).toBeUndefined()
    expect(await processesWith(marker)).toEqual([])
    const late = await s.api(`/api/tasks/${taskId}/approvals/${messageId}`, { json: { confirmed: true } })
    expect(late).toMatchObject({ status: 409 })
    expect(late.body.message).toContain('cancelled by cancel')
  })

  it('allows an edit inside the workspace by policy, visible as confirmation_resolved by policy', async () => {
    const taskId = await s.start({
      instruction: 'edit by policy',
      context: { mock: { ask: { title: 'Write notes.md', kind: 'edit' }, edits: [{ file: 'notes.md', content: 'n\n' }] } },
    })
    const confirmation = await asked(taskId)
    expect(confirmation.content).toBe('mock wants to edit: notes.md')
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.messageId === confirmation.messageId)
    expect(resolved).toMatchObject({ outcome: 'allowed', optionId: 'allow_once', by: 'policy' })
    expect(resolved.seq!).toBeGreaterThan(confirmation.seq!)
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual(['notes.md'])
    expect(s.events.of(taskId, 'status').some((f) => f.phase === 'awaiting_approval')).toBe(false)
  })
})

describe('APPROVAL_POLICY and APPROVAL_TIMEOUT_SECONDS', () => {
  it('deny rejects everything by policy; the agent makes no edits', async () => {
    await using s = await conversationServer({ APPROVAL_POLICY: 'deny' })
    const taskId = await s.start({ instruction: 'denied', context: { mock: { ask: { title: 'Write x', kind: 'edit' }, edits: [{ file: 'x.txt', content: 'x' }] } } })
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.taskId === taskId)
    expect(resolved).toMatchObject({ outcome: 'rejected', optionId: 'reject_once', by: 'policy' })
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual([])
  })

  it('allowlist allows a command on CMD_ALLOWLIST by policy and asks one that is not, or that a shell would read differently', async () => {
    await using s = await conversationServer({ APPROVAL_POLICY: 'allowlist', CMD_ALLOWLIST: 'npm test,pytest *' })
    const ok = await s.start({ instruction: 'listed', context: askToRun() })
    expect(await s.events.next((f) => f.type === 'confirmation_resolved' && f.taskId === ok)).toMatchObject({ outcome: 'allowed', by: 'policy' })
    for (const command of ['rm -rf /', 'pytest x; rm -rf ~', 'pytest $(id)']) {
      const taskId = await s.start({ instruction: `unlisted ${command}`, context: { mock: { ask: { title: command, command } } } })
      const confirmation = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId)
      await s.status(taskId, 'running', 'awaiting_approval')
      expect(s.events.frames.some((f) => f.type === 'confirmation_resolved' && f.messageId === confirmation.messageId)).toBe(false)
      await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
    }
  })

  it('ask asks even an edit inside the workspace', async () => {
    await using s = await conversationServer({ APPROVAL_POLICY: 'ask' })
    const taskId = await s.start({ instruction: 'asked', context: { mock: { ask: { title: 'Write y', kind: 'edit' }, edits: [{ file: 'y.txt', content: 'y' }] } } })
    await s.status(taskId, 'running', 'awaiting_approval')
    await s.api(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
  })

  it('expires an unanswered approval after APPROVAL_TIMEOUT_SECONDS: the agent is told no', async () => {
    await using s = await conversationServer({ APPROVAL_TIMEOUT_SECONDS: '1' })
    const taskId = await s.start({ instruction: 'too slow', context: askToRun('never.txt') })
    const resolved = await s.events.next((f) => f.type === 'confirmation_resolved' && f.taskId === taskId)
    expect(resolved).toMatchObject({ outcome: 'expired', optionId: 'reject_once', by: 'timeout' })
    await s.status(taskId, 'completed')
    expect(await patchedFiles(s, taskId)).toEqual([])
  })

  it('stops start-up naming APPROVAL_POLICY when it is not a policy', async () => {
    const started = conversationServer({ APPROVAL_POLICY: 'sometimes' })
    await expect(started).rejects.toThrow(/APPROVAL_POLICY/)
  })
})
