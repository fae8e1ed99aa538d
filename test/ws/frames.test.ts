import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { OutputEvent } from '../../src/events'
import { EVENT_DEFINITIONS, FRAME_SCHEMAS, frameProblem, FrameErrorFrame, PongFrame, ResumeFrame } from '../../src/ws/frames'
import { makeWsTestApp, TestSocket, typeLine, type WsTestApp } from './helpers'

setDefaultTimeout(30_000)

let t: WsTestApp

beforeAll(async () => {
  t = await makeWsTestApp()
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

const BAD_SIZES = [0, -5, 1.5, 100000]

/** The schema of an event frame, by its type. */
function eventSchema(type: unknown) {
  return EVENT_DEFINITIONS.find((definition) => definition.type === type)?.schema
}

describe('the resume frame', () => {
  it('names the newest seq lastSeq and carries no seq, so only events carry seq, strictly increasing', async () => {
    for (let i = 0; i < 3; i++) t.services.events.publish(t.sessionId, OutputEvent, { taskId: 'resume-test', data: `r${i}` })
    const newest = t.services.events.forSession(t.sessionId).lastSeq
    const socket = new TestSocket(t.eventsUrl({ resumeSeq: newest - 3, epoch: t.services.events.epoch }))
    await socket.untilFrames(4)
    const [resume, ...events] = socket.json()
    expect(resume).toEqual({ type: 'resume', status: 'ok', epoch: t.services.events.epoch, lastSeq: newest })
    expect(frameProblem(ResumeFrame, resume)).toBeNull()
    const seqs = socket.json().flatMap((frame) => ('seq' in frame ? [frame.seq as number] : []))
    expect(seqs).toEqual([newest - 2, newest - 1, newest])
    for (const event of events) expect(frameProblem(eventSchema(event.type)!, event)).toBeNull()
    socket.close()
  })
})

describe('a bad resize', () => {
  it('gets the same bad_terminal_size error frame on /ws/pty as on /ws/events, and the socket stays open', async () => {
    const pty = new TestSocket(t.ptyUrl())
    const events = new TestSocket(t.eventsUrl())
    await Promise.all([pty.opened, events.opened])
    await events.untilFrames(1)
    for (const cols of BAD_SIZES) {
      pty.send(JSON.stringify({ type: 'resize', cols, rows: 24 }))
      events.send(JSON.stringify({ type: 'resize', cols, rows: 24 }))
    }
    const errorsOf = (socket: TestSocket) =>
      socket.frames.flatMap((text) => {
        try {
          const frame = JSON.parse(text) as Record<string, unknown>
          return frame.type === 'error' ? [frame] : []
        } catch {
          return []
        }
      })
    await events.until(() => errorsOf(events).length === BAD_SIZES.length, 'four error frames on /ws/events')
    await pty.until(() => errorsOf(pty).length === BAD_SIZES.length, 'four error frames on /ws/pty')
    for (const frame of [...errorsOf(pty), ...errorsOf(events)]) {
      expect(frame).toMatchObject({ type: 'error', error: 'bad_terminal_size', for: 'resize' })
      expect(frameProblem(FrameErrorFrame, frame)).toBeNull()
    }
    // Still open: the shell answers.
    typeLine(pty, 'echo still-$((40+2))')
    await pty.untilText('still-42')
    pty.close()
    events.close()
  })
})

describe('client frames are checked against their schemas', () => {
  it('refuses a user_message without content, naming the field, and answers ping with a pong that fits its schema', async () => {
    const socket = new TestSocket(t.eventsUrl())
    await socket.untilFrames(1)
    socket.send(JSON.stringify({ type: 'user_message', content: 42 }))
    socket.send(JSON.stringify({ type: 'ping' }))
    await socket.untilFrames(3)
    const [, refusal, pong] = socket.json()
    expect(refusal).toMatchObject({ type: 'error', for: 'user_message', error: 'bad_frame' })
    expect(String(refusal!.message)).toContain('content')
    expect(frameProblem(PongFrame, pong)).toBeNull()
    socket.close()
  })
})

describe('the events of a real task and command', () => {
  it('each fit the schema of their type in the catalogue', async () => {
    const socket = new TestSocket(t.eventsUrl())
    await socket.untilFrames(1)
    // The mock over ACP: an edit it asks permission for (allowed by the default policy), a tool call, a message.
    const task = await t.request('/api/tasks', {
      method: 'POST',
      json: { instruction: 'note', context: { mock: { ask: { title: 'Write n.txt', kind: 'edit' }, edits: [{ file: 'n.txt', content: 'x\n' }] } } },
    })
    expect(task.status).toBe(202)
    const { taskId } = (await task.json()) as { taskId: string }
    const failing = await t.request('/api/tasks', { method: 'POST', json: { instruction: 'fail', context: { mock: { fail: true } } } })
    const failed = ((await failing.json()) as { taskId: string }).taskId
    await socket.until(
      () =>
        socket.json().some((f) => f.type === 'status' && f.taskId === taskId && f.status === 'completed') &&
        // the agent's output is flushed by its own streamer and may follow the completed status
        socket.json().some((f) => f.type === 'output' && f.taskId === taskId) &&
        socket.json().some((f) => f.type === 'error' && f.taskId === failed),
      'one task to complete with its output and one to fail',
    )
    const types = new Set<string>()
    for (const frame of socket.json().slice(1)) {
      const schema = eventSchema(frame.type)
      expect(schema).toBeDefined()
      expect(frameProblem(schema!, frame)).toBeNull()
      types.add(String(frame.type))
    }
    // `exit` is a print-mode agent's (and a command's): an ACP agent's turn ends without one.
    expect([...types].sort()).toEqual(['confirmation', 'confirmation_resolved', 'error', 'message', 'output', 'patch', 'status', 'tool'])
    socket.close()
  })

  it('publishes every event and frame schema by a unique name', () => {
    const names = Object.keys(FRAME_SCHEMAS)
    for (const definition of EVENT_DEFINITIONS) expect(names).toContain(definition.name)
    expect(new Set(EVENT_DEFINITIONS.map((d) => d.type)).size).toBe(EVENT_DEFINITIONS.length)
  })
})
