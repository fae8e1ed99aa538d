import { describe, expect, it } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { EventHub, OutgoingCheck, OutgoingSchemaError, OutputEvent, type BusEvent, type EventFields } from '../../src/events'
import { createLogger } from '../../src/logger'
import { createServices } from '../../src/services'
import { TaskStatusEvent } from '../../src/tasks/events'
import { ServerFrames } from '../../src/ws/frames'

/** Fields that break the status event's schema: `status` is not one of the task statuses. */
const offSchema = { taskId: 't1', status: 'exploded' } as unknown as EventFields<typeof TaskStatusEvent>

function capturedLogger() {
  const lines: Record<string, unknown>[] = []
  return { lines, logger: createLogger('debug', 'json', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) }
}

describe('events the server publishes', () => {
  it('are refused where they are made by a hub in throw mode, before a seq is taken or anyone hears of them', () => {
    const hub = new EventHub('e')
    const heard: BusEvent[] = []
    hub.forSession('s').subscribe((event) => heard.push(event))
    hub.publish('s', OutputEvent, { taskId: 't1', data: 'one' })
    expect(() => hub.publish('s', TaskStatusEvent, offSchema)).toThrow(OutgoingSchemaError)
    expect(() => hub.publish('s', TaskStatusEvent, offSchema)).toThrow(/StatusEvent.*status/)
    hub.publish('s', OutputEvent, { taskId: 't1', data: 'two' })
    expect(heard.map((event) => [event.seq, event.data])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ])
    expect(hub.forSession('s').replay(0).events.map((event) => event.seq)).toEqual([1, 2])
  })

  it('are sent anyway and logged by a hub in log mode, one line per schema, not one per event', () => {
    const { lines, logger } = capturedLogger()
    const hub = new EventHub('e', undefined, logger, null, new OutgoingCheck('log', logger))
    const heard: BusEvent[] = []
    hub.forSession('s').subscribe((event) => heard.push(event))
    for (let i = 0; i < 5; i++) hub.publish('s', TaskStatusEvent, offSchema)
    expect(heard.map((event) => [event.seq, event.status])).toEqual([1, 2, 3, 4, 5].map((seq) => [seq, 'exploded']))
    const complaints = lines.filter((line) => String(line.msg).includes('does not fit its schema'))
    expect(complaints).toHaveLength(1)
    expect(complaints[0]).toMatchObject({ level: 'error', what: 'StatusEvent', count: 1 })
    expect(String(complaints[0]!.problem)).toContain('status')
  })

  it('pass their check when they fit, so nothing is logged for a good event', () => {
    const { lines, logger } = capturedLogger()
    const hub = new EventHub('e', undefined, logger, null, new OutgoingCheck('log', logger))
    hub.publish('s', TaskStatusEvent, { taskId: 't1', status: 'running' })
    hub.publish('s', OutputEvent, { cmdId: 'c1', data: 'x' })
    expect(lines).toEqual([])
  })
})

describe('frames the server makes that are not events', () => {
  it('are checked as they are made: a bad one throws in throw mode', () => {
    const frames = new ServerFrames(new OutgoingCheck('throw'))
    expect(JSON.parse(frames.resume({ status: 'ok', epoch: 'e', lastSeq: 3 }))).toEqual({ type: 'resume', status: 'ok', epoch: 'e', lastSeq: 3 })
    expect(JSON.parse(frames.pong)).toEqual({ type: 'pong' })
    expect(() => frames.resume({ status: 'maybe', epoch: 'e', lastSeq: 3 } as never)).toThrow(/ResumeFrame.*status/)
    expect(() => frames.ack({ for: 'something_else' } as never)).toThrow(/AckFrame/)
    expect(() => frames.ptyExit({ code: 1.5, durationMs: 3 })).toThrow(/PtyExitFrame.*code/)
  })

  it('are still sent, and logged, in log mode', () => {
    const { lines, logger } = capturedLogger()
    const frames = new ServerFrames(new OutgoingCheck('log', logger))
    expect(JSON.parse(frames.ptyExit({ code: 1.5, durationMs: 3 }))).toEqual({ type: 'exit', code: 1.5, durationMs: 3 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'error', what: 'PtyExitFrame' })
  })
})

describe('the server as shipped', () => {
  it('logs an off-schema event rather than failing the producer (createServices without overrides)', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-outgoing-')))
    const { lines, logger } = capturedLogger()
    const services = createServices(loadConfig({ REPO_ALLOWLIST: root, STATE_DIR: join(root, 'state'), JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', PATH: process.env.PATH }), { logger })
    try {
      expect(services.events.outgoing.mode).toBe('log')
      const event = services.events.publish('s', TaskStatusEvent, offSchema)
      expect(event.status).toBe('exploded')
      expect(lines.some((line) => line.what === 'StatusEvent')).toBe(true)
    } finally {
      await services.shutdown()
      rmSync(root, { recursive: true, force: true })
    }
  })
})
