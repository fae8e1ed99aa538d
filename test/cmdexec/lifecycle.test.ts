import { describe, expect, it } from 'bun:test'
import { isEvent, OutputEvent, type BusEvent } from '../../src/events'
import { caught, eventually, fakeSession, liveProcesses, makeRunner } from './helpers'

/** Sleep durations unique to this file, so the process-table checks cannot see other tests' sleeps. */
const SLEEP = { timeout: '6101', grandchildA: '6102', grandchildB: '6103', leftover: '6104', busy: '6105', stop: '6106', cancel: '6107', shutdown: '6108', cap: '6109' }

describe('timeouts and process groups', () => {
  it('kills a command at its timeout and leaves no process behind', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.timeout}`] })
    const started = Date.now()
    const { cmdId } = t.runner.start(t.session, { cmd: `sleep ${SLEEP.timeout}`, timeoutMs: 500 })
    expect(await eventually(() => liveProcesses(`sleep ${SLEEP.timeout}`), (rows) => rows.length === 1)).toHaveLength(1)
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(done).toMatchObject({ status: 'timedOut', timedOut: true, ok: false, code: 128 + 15 })
    expect(liveProcesses(`sleep ${SLEEP.timeout}`)).toEqual([])
  })

  it('kills a background grandchild with its parent on timeout', async () => {
    const cmd = `sh -c 'sleep ${SLEEP.grandchildA} & sleep ${SLEEP.grandchildB}'`
    await using t = makeRunner({ allowlist: [cmd] })
    const { cmdId } = t.runner.start(t.session, { cmd, timeoutMs: 500 })
    expect(await eventually(() => liveProcesses(`sleep ${SLEEP.grandchildA}`), (rows) => rows.length === 1)).toHaveLength(1)
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(done.timedOut).toBe(true)
    expect(liveProcesses(`sleep ${SLEEP.grandchildA}`)).toEqual([])
    expect(liveProcesses(`sleep ${SLEEP.grandchildB}`)).toEqual([])
  })

  it('ends what a command left running in its group when the command itself exits', async () => {
    const cmd = `sh -c 'sleep ${SLEEP.leftover} & echo started'`
    await using t = makeRunner({ allowlist: [cmd] })
    const { cmdId } = t.runner.start(t.session, { cmd })
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(done).toMatchObject({ status: 'exited', code: 0, ok: true, output: 'started\n' })
    expect(liveProcesses(`sleep ${SLEEP.leftover}`)).toEqual([])
  })

  it('caps a requested timeout at maxTimeoutMs', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.cap}`], maxTimeoutMs: 300 })
    const { cmdId } = t.runner.start(t.session, { cmd: `sleep ${SLEEP.cap}`, timeoutMs: 600_000 })
    expect((await t.runner.wait(t.session.id, cmdId)).timedOut).toBe(true)
  })

  it('cancels a running command: status killed, group gone, and a finished one stays as it was', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.cancel}`, 'echo hello'] })
    const { cmdId } = t.runner.start(t.session, { cmd: `sleep ${SLEEP.cancel}` })
    const cancelled = await t.runner.cancel(t.session.id, cmdId)
    expect(cancelled).toMatchObject({ status: 'killed', timedOut: false, ok: false, code: 143 })
    expect(liveProcesses(`sleep ${SLEEP.cancel}`)).toEqual([])
    const echo = t.runner.start(t.session, { cmd: 'echo hello' })
    const finished = await t.runner.wait(t.session.id, echo.cmdId)
    expect(await t.runner.cancel(t.session.id, echo.cmdId)).toEqual(finished)
  })
})

describe('bounded output', () => {
  it('keeps the tail when output passes the limit and says it was truncated', async () => {
    await using t = makeRunner({ allowlist: ['seq 1 20000'], outputLimitBytes: 1024 })
    const { cmdId } = t.runner.start(t.session, { cmd: 'seq 1 20000' })
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(done.truncated).toBe(true)
    expect(Buffer.byteLength(done.output)).toBeLessThanOrEqual(1024)
    expect(Buffer.byteLength(done.output)).toBeGreaterThan(1000)
    expect(done.output.endsWith('19999\n20000\n')).toBe(true)
  })

  it('keeps all of an output under the limit', async () => {
    await using t = makeRunner({ allowlist: ['seq 1 100'], outputLimitBytes: 1024 })
    const { cmdId } = t.runner.start(t.session, { cmd: 'seq 1 100' })
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(done.truncated).toBe(false)
    expect(done.output.split('\n')).toHaveLength(101)
  })
})

describe('events on the session bus', () => {
  function collect(t: ReturnType<typeof makeRunner>, sessionId = t.session.id): BusEvent[] {
    const seen: BusEvent[] = []
    t.events.forSession(sessionId).subscribe((event) => seen.push(event))
    return seen
  }

  it('publishes output then one exit, in order, tagged with the cmdId', async () => {
    await using t = makeRunner({ allowlist: ["sh -c 'echo one; sleep 0.2; echo two >&2; exit 3'"] })
    const seen = collect(t)
    const { cmdId } = t.runner.start(t.session, { cmd: "sh -c 'echo one; sleep 0.2; echo two >&2; exit 3'" })
    const done = await t.runner.wait(t.session.id, cmdId)
    const types = seen.map((event) => event.type)
    expect(types.at(-1)).toBe('exit')
    expect(types.slice(0, -1).every((type) => type === 'output')).toBe(true)
    expect(seen.every((event) => 'cmdId' in event && event.cmdId === cmdId)).toBe(true)
    expect(seen.map((event) => event.seq)).toEqual([...seen.map((event) => event.seq)].sort((a, b) => a - b))
    const streamed = seen.flatMap((event) => (isEvent(event, OutputEvent) ? [event.data] : [])).join('')
    expect(streamed).toBe('one\ntwo\n')
    expect(seen.at(-1)).toMatchObject({ type: 'exit', code: 3, durationMs: done.durationMs })
  })

  it('coalesces a flood of output into few events and bounds what one command streams per second', async () => {
    const limits = { coalesceMs: 50, maxEventChars: 4096, bytesPerSecond: 16 * 1024 }
    await using t = makeRunner({ allowlist: ['seq 1 200000'], outputStream: limits, outputLimitBytes: 4096 })
    const seen = collect(t)
    const started = Date.now()
    const { cmdId } = t.runner.start(t.session, { cmd: 'seq 1 200000' })
    const done = await t.runner.wait(t.session.id, cmdId)
    const seconds = Math.ceil((Date.now() - started) / 1000)
    const outputs = seen.flatMap((event) => (isEvent(event, OutputEvent) ? [event.data] : []))
    const streamedBytes = outputs.reduce((sum, data) => sum + Buffer.byteLength(data), 0)
    // seq prints about 1.3 MB; the stream carries at most the budget (plus a notice) per second.
    expect(streamedBytes).toBeLessThanOrEqual(seconds * (limits.bytesPerSecond + 200))
    expect(outputs.every((data) => data.length <= limits.maxEventChars)).toBe(true)
    expect(outputs.join('')).toMatch(/\[cockpit: \d+ bytes of output were not streamed/)
    expect(done.output.endsWith('200000\n')).toBe(true)
    expect(seen.at(-1)?.type).toBe('exit')
  })
})

describe('limits and ownership of running commands', () => {
  it('refuses a command over the per-session concurrency limit with 429, other sessions unaffected', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.busy}`], concurrencyPerSession: 1 })
    const first = t.runner.start(t.session, { cmd: `sleep ${SLEEP.busy}` })
    expect(caught(() => t.runner.start(t.session, { cmd: `sleep ${SLEEP.busy}` }))).toMatchObject({ status: 429, kind: 'too_many_requests' })
    const other = fakeSession(t.repo)
    const second = t.runner.start(other, { cmd: `sleep ${SLEEP.busy}` })
    await t.runner.cancel(t.session.id, first.cmdId)
    const again = t.runner.start(t.session, { cmd: `sleep ${SLEEP.busy}` })
    await Promise.all([t.runner.cancel(other.id, second.cmdId), t.runner.cancel(t.session.id, again.cmdId)])
    expect(liveProcesses(`sleep ${SLEEP.busy}`)).toEqual([])
  })

  it('stopSession kills the session\'s commands, forgets them and publishes nothing more', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.stop}`] })
    const seen: BusEvent[] = []
    t.events.forSession(t.session.id).subscribe((event) => seen.push(event))
    const ids = [t.runner.start(t.session, { cmd: `sleep ${SLEEP.stop}` }).cmdId, t.runner.start(t.session, { cmd: `sleep ${SLEEP.stop}` }).cmdId]
    expect(await eventually(() => liveProcesses(`sleep ${SLEEP.stop}`), (rows) => rows.length === 2)).toHaveLength(2)
    await t.runner.stopSession(t.session.id)
    expect(liveProcesses(`sleep ${SLEEP.stop}`)).toEqual([])
    for (const id of ids) expect(caught(() => t.runner.get(t.session.id, id))).toMatchObject({ status: 404 })
    expect(seen).toEqual([])
    expect(t.runner.runningCount).toBe(0)
  })

  it('shutdown kills everything and refuses new commands with 503', async () => {
    await using t = makeRunner({ allowlist: [`sleep ${SLEEP.shutdown}`] })
    t.runner.start(t.session, { cmd: `sleep ${SLEEP.shutdown}` })
    t.runner.start(fakeSession(t.repo), { cmd: `sleep ${SLEEP.shutdown}` })
    await t.runner.shutdown()
    expect(liveProcesses(`sleep ${SLEEP.shutdown}`)).toEqual([])
    expect(caught(() => t.runner.start(t.session, { cmd: `sleep ${SLEEP.shutdown}` }))).toMatchObject({ status: 503 })
  })
})
