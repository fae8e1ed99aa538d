import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { DEFAULT_RING_LIMITS, OutputEvent } from '../../src/events'
import { TASK_LIMITS } from '../../src/tasks/validation'
import { makeWsTestApp, TestSocket, typeLine, type WsTestApp } from './helpers'

setDefaultTimeout(30_000)

let t: WsTestApp

beforeAll(async () => {
  t = await makeWsTestApp()
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

type Frame = Record<string, unknown>

function publishStatuses(count: number, taskId = 'task-1'): void {
  for (let i = 0; i < count; i++) t.services.events.publish(t.sessionId, OutputEvent, { taskId, data: `step-${i}` })
}

async function connected(extra: Record<string, string | number> = {}): Promise<TestSocket> {
  const socket = new TestSocket(t.eventsUrl(extra))
  await socket.opened
  await socket.untilFrames(1)
  return socket
}

const lastSeq = () => t.services.events.forSession(t.sessionId).lastSeq
const epoch = () => t.services.events.epoch

describe('/ws/events', () => {
  it('starts a fresh client with resume ok (current seq and epoch), then live events in order with rising seq', async () => {
    const socket = await connected()
    expect(socket.json()[0]).toEqual({ type: 'resume', status: 'ok', epoch: epoch(), lastSeq: lastSeq() })
    const before = lastSeq()
    publishStatuses(5)
    await socket.untilFrames(6)
    const events = socket.json().slice(1)
    expect(events.map((e) => e.data)).toEqual(['step-0', 'step-1', 'step-2', 'step-3', 'step-4'])
    expect(events.map((e) => e.seq)).toEqual([before + 1, before + 2, before + 3, before + 4, before + 5])
    for (const event of events) expect(event).toMatchObject({ type: 'output', taskId: 'task-1', epoch: epoch() })
    socket.close()
  })

  it('replays every kept event after resumeSeq=0 in order, after a resume ok frame, then goes live', async () => {
    const total = lastSeq()
    expect(total).toBeGreaterThan(0)
    const socket = await connected({ resumeSeq: 0, epoch: epoch() })
    await socket.untilFrames(1 + total)
    const frames = socket.json()
    expect(frames[0]).toMatchObject({ type: 'resume', status: 'ok' })
    expect(frames.slice(1).map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    publishStatuses(1, 'task-live')
    await socket.untilFrames(2 + total)
    expect(socket.json().at(-1)).toMatchObject({ seq: total + 1, taskId: 'task-live' })
    socket.close()
  })

  it('replays only events after resumeSeq=n', async () => {
    const n = lastSeq() - 2
    const socket = await connected({ resumeSeq: n })
    await socket.untilFrames(3)
    expect(socket.json().map((e) => (e.type === 'resume' ? 'resume' : e.seq))).toEqual(['resume', n + 1, n + 2])
    socket.close()
  })

  it('answers ping with pong', async () => {
    const socket = await connected()
    socket.send(JSON.stringify({ type: 'ping' }))
    await socket.untilFrames(2)
    expect(socket.json()[1]).toEqual({ type: 'pong' })
    socket.close()
  })

  it('answers garbage, unknown types and a confirmation of an unknown approval with an error frame naming them, and stays open', async () => {
    const socket = await connected()
    socket.send('this is not json')
    socket.send(JSON.stringify({ type: 'confirmation', messageId: 'm1', confirmed: true }))
    socket.send(JSON.stringify({ type: 'dance' }))
    socket.send(JSON.stringify([1, 2]))
    socket.send(new Uint8Array([1, 2, 3]))
    socket.send(JSON.stringify({ type: 'ping' }))
    await socket.untilFrames(7)
    const [, notJson, confirmation, dance, array, binary, pong] = socket.json()
    expect(notJson).toMatchObject({ type: 'error', for: 'invalid_json' })
    expect(confirmation).toMatchObject({ type: 'error', for: 'confirmation', messageId: 'm1', error: 'approval_not_found' })
    expect(String(confirmation!.message)).toContain('m1')
    expect(dance).toMatchObject({ type: 'error', for: 'dance' })
    expect(String(dance!.message)).toContain('"dance"')
    expect(array).toMatchObject({ type: 'error', for: 'missing_type' })
    expect(binary).toMatchObject({ type: 'error', for: 'binary' })
    expect(pong).toEqual({ type: 'pong' })
    expect(socket.ws.readyState).toBe(WebSocket.OPEN)
    socket.close()
  })

  it('sends resume gap when the events asked for left the ring', async () => {
    const from = lastSeq()
    publishStatuses(DEFAULT_RING_LIMITS.maxEvents + 10, 'flood')
    const socket = await connected({ resumeSeq: from, epoch: epoch() })
    expect(socket.json()[0]).toMatchObject({ type: 'resume', status: 'gap' })
    socket.close()
  })

  it('sends resume gap for an epoch that is not the current one, and for a seq this server never reached', async () => {
    const wrongEpoch = await connected({ resumeSeq: 1, epoch: 'an-earlier-server' })
    expect(wrongEpoch.json()[0]).toMatchObject({ type: 'resume', status: 'gap', epoch: epoch() })
    wrongEpoch.close()
    const future = await connected({ resumeSeq: lastSeq() + 100 })
    expect(future.json()[0]).toMatchObject({ type: 'resume', status: 'gap' })
    future.close()
  })

  it('refuses a negative or non-numeric resumeSeq with 422', async () => {
    for (const resumeSeq of ['-1', 'abc']) {
      const response = await fetch(`${t.baseUrl}/ws/events?${new URLSearchParams({ sessionId: t.sessionId, token: t.token, resumeSeq })}`, {
        headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
      })
      expect(response.status).toBe(422)
    }
  })

  it("resizes the session's terminal with a resize frame; a bad size is an error event", async () => {
    await t.terminals.stopSession(t.sessionId)
    const events = await connected()
    events.send(JSON.stringify({ type: 'resize', cols: 91, rows: 27 }))
    events.send(JSON.stringify({ type: 'resize', cols: 0, rows: 27 }))
    await events.untilFrames(2)
    expect(events.json()[1]).toMatchObject({ type: 'error', for: 'resize', error: 'bad_terminal_size' })
    // Sent before the shell started: the shell starts at that size.
    const pty = new TestSocket(t.ptyUrl())
    await pty.opened
    typeLine(pty, 'stty size')
    await pty.untilText('27 91\r\n')
    events.send(JSON.stringify({ type: 'resize', cols: 101, rows: 33 }))
    // Two sockets, no common order: wait until the resize has landed before asking the shell.
    const deadline = Date.now() + 5000
    while (t.terminals.terminalOf(t.sessionId)?.cols !== 101 && Date.now() < deadline) await Bun.sleep(10)
    typeLine(pty, 'stty size')
    await pty.untilText('33 101\r\n')
    pty.close()
    events.close()
  })

  it('starts a task from user_message when none runs and acknowledges it; a refused message is an error event', async () => {
    const socket = await connected()
    socket.send(JSON.stringify({ type: 'user_message', content: 'add a test', timestamp: 123 }))
    await socket.until(() => socket.json().some((f) => f.type === 'ack'), 'the ack')
    const ack = socket.json().find((f) => f.type === 'ack')!
    expect(ack).toMatchObject({ for: 'user_message', started: true })
    const task = await t.request(`/api/tasks/${String(ack.taskId)}`)
    expect(task.status).toBe(200)
    expect(await task.json()).toMatchObject({ instruction: 'add a test', agent: t.config.defaultAgent })
    // The task's own events reach the same socket.
    await socket.until(() => socket.json().some((f) => f.type === 'status' && f.taskId === ack.taskId), 'a status event of the task')

    const errorsBefore = socket.json().filter((f) => f.type === 'error').length
    socket.send(JSON.stringify({ type: 'user_message', content: 'x'.repeat(TASK_LIMITS.maxUserMessageChars + 1) }))
    socket.send(JSON.stringify({ type: 'user_message', content: '' }))
    await socket.until(() => socket.json().filter((f) => f.type === 'error').length === errorsBefore + 2, 'two error events')
    const [tooLong, empty] = socket.json().filter((f) => f.type === 'error').slice(errorsBefore)
    expect(tooLong).toMatchObject({ for: 'user_message', error: 'invalid_message' })
    expect(empty).toMatchObject({ for: 'user_message', error: 'bad_frame' })
    socket.close()
  })
})
