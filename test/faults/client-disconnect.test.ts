/**
 * Clients that go away mid-stream: an HTTP `?wait=true` aborted while its command runs (or
 * floods), and WebSockets closed while a terminal or a command floods them. The server keeps
 * answering, the work ends as documented, and nothing leaks: no process, no socket, no listener.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { ExitEvent, isEvent } from '../../src/events'
import { makeTestApp, type TestApp } from '../fixtures/app'
import { uniqueMarker } from './fake-agent'
import { expectNoLeftovers, jsonOf, leftoverProcesses, waitFor } from './support'

let app: TestApp
let baseUrl: string
let wsUrl: string

beforeEach(async () => {
  // The terminal layer takes its shell from $SHELL when the services are built. /bin/sh, not the
  // user's bash: a bash killed while its .bashrc runs `pyenv rehash` leaves pyenv's lock behind.
  const shell = process.env.SHELL
  process.env.SHELL = '/bin/sh'
  try {
    app = await makeTestApp({ env: { CMD_ALLOWLIST: 'sleep *,yes *', PTY_SCROLLBACK_BYTES: String(64 * 1024), CMD_OUTPUT_LIMIT_BYTES: String(64 * 1024) } })
  } finally {
    if (shell === undefined) delete process.env.SHELL
    else process.env.SHELL = shell
  }
  ;({ baseUrl, wsUrl } = app.listen())
}, 30_000)

afterEach(async () => {
  await app?.[Symbol.asyncDispose]()
}, 15_000)

const auth = () => ({ authorization: `Bearer ${app.token}` })

/** A sleep whose argv is unique to this test, so the process table tells it apart. */
function uniqueSleep(seconds: number): string {
  return `${seconds}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}1`
}

/**
 * The server still answers: a loop held by a dropped client would hold it for the whole flood or
 * command, far past this bound; the bound itself is wide enough for a loaded CI machine (how fast
 * it answers is measured in `bun run bench`).
 */
async function healthzPromptly(): Promise<void> {
  const started = performance.now()
  const response = await fetch(`${baseUrl}/healthz`)
  expect(response.status).toBe(200)
  expect(performance.now() - started).toBeLessThan(5000)
}

/** A raw WebSocket client that counts what it receives and keeps only the last 4 KiB. */
function openSocket(path: string) {
  const ws = new WebSocket(`${wsUrl}${path}?sessionId=${app.sessionId}&token=${app.token}`)
  const state = { bytes: 0, tail: '', open: false, closed: null as number | null }
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => ((state.open = true), resolve()))
    ws.addEventListener('error', () => reject(new Error(`${path} failed`)))
  })
  ws.addEventListener('message', (message) => {
    const text = String(message.data)
    state.bytes += text.length
    state.tail = (state.tail + text).slice(-4096)
  })
  ws.addEventListener('close', (event) => (state.closed = event.code))
  return { ws, state, opened }
}

describe('an HTTP client that aborts ?wait=true', () => {
  it('leaves the command running to its end (as documented), then nothing is left', async () => {
    const duration = uniqueSleep(1)
    const abort = new AbortController()
    const waiting = fetch(`${baseUrl}/api/cmd?wait=true`, { method: 'POST', headers: auth(), body: JSON.stringify({ cmd: `sleep ${duration}` }), signal: abort.signal })
    await waitFor('the command to start', () => leftoverProcesses([`sleep ${duration}`]).length === 1)
    abort.abort()
    expect(await waiting.then(() => 'answered', (error: Error) => error.name)).toBe('AbortError')
    await healthzPromptly()
    expect(app.services.commands.runningCount).toBe(1)
    await waitFor('the command to end', () => app.services.commands.runningCount === 0, 10_000)
    await expectNoLeftovers([`sleep ${duration}`])
  }, 30_000)

  it('still times out a flooding command, whose kept output stays bounded', async () => {
    const marker = uniqueMarker('cmd-flood')
    const cmdIds = new Set<string>()
    app.services.events.forSession(app.sessionId).subscribe((event) => {
      if (isEvent(event, ExitEvent) && event.cmdId) cmdIds.add(event.cmdId)
    })
    const abort = new AbortController()
    const waiting = fetch(`${baseUrl}/api/cmd?wait=true`, { method: 'POST', headers: auth(), body: JSON.stringify({ cmd: `yes ${marker}`, timeoutMs: 1500 }), signal: abort.signal })
    await waitFor('the flood to start', () => leftoverProcesses([marker]).length > 0)
    abort.abort()
    await waiting.catch(() => {})
    await healthzPromptly()
    const [cmdId] = await waitFor('the exit event', () => (cmdIds.size === 1 ? [...cmdIds] : undefined), 10_000)
    const view = await jsonOf<{ status: string; truncated: boolean; output: string }>(await app.request(`/api/cmd/${cmdId}`))
    expect(view.body).toMatchObject({ status: 'timedOut', truncated: true })
    expect(Buffer.byteLength(view.body.output)).toBeLessThanOrEqual(64 * 1024)
    await expectNoLeftovers([marker], [], 0)
  }, 30_000)

  it('survives twenty aborted waits at once: every request is answered or aborted, none leaks', async () => {
    // Long enough that the first commands are still running when ps looks for them on a loaded
    // machine (0.x s sometimes ended before the first look); the aborts do not wait for them.
    const duration = uniqueSleep(3)
    const aborts = Array.from({ length: 20 }, () => new AbortController())
    const requests = aborts.map((abort) =>
      fetch(`${baseUrl}/api/cmd?wait=true`, { method: 'POST', headers: auth(), body: JSON.stringify({ cmd: `sleep ${duration}` }), signal: abort.signal }).then(
        (response) => response.status,
        () => 'aborted',
      ),
    )
    await waitFor('the first commands to start', () => leftoverProcesses([`sleep ${duration}`]).length > 0)
    for (const abort of aborts) abort.abort()
    const outcomes = await Promise.all(requests)
    // Past CMD_CONCURRENCY (4) the server already answered 429; the rest were cut by the client.
    expect(outcomes.every((outcome) => outcome === 'aborted' || outcome === 429 || outcome === 200)).toBe(true)
    await healthzPromptly()
    await waitFor('every command to end', () => app.services.commands.runningCount === 0, 15_000)
    await expectNoLeftovers([`sleep ${duration}`])
  }, 30_000)
})

describe('a WebSocket client that closes mid-flood', () => {
  it('/ws/pty: the shell survives the dropped client, a reconnect gets a bounded replay, ending the session leaves nothing', async () => {
    const marker = uniqueMarker('pty-flood')
    const first = openSocket('/ws/pty')
    await first.opened
    first.ws.send(`yes ${marker}\r`)
    await waitFor('the flood to reach the client', () => first.state.bytes > 256 * 1024, 10_000)
    first.ws.close()
    await waitFor('the server to forget the socket', () => app.services.sockets.count(app.sessionId) === 0)
    await healthzPromptly()
    expect(leftoverProcesses([`yes ${marker}`]).length).toBe(1)

    const second = openSocket('/ws/pty')
    await second.opened
    await waitFor('the replay and live flood', () => second.state.bytes > 64 * 1024 && second.state.tail.includes(marker), 10_000)
    second.ws.send('\x03')
    second.ws.close()
    await waitFor('the server to forget the second socket', () => app.services.sockets.count(app.sessionId) === 0)

    expect((await app.request(`/api/session/${app.sessionId}`, { method: 'DELETE' })).status).toBe(200)
    await expectNoLeftovers([marker])
    expect(app.services.terminals.runningCount).toBe(0)
  }, 30_000)

  it('/ws/events: the server drops its listener and keeps running the command to its end', async () => {
    const marker = uniqueMarker('events-flood')
    const events = openSocket('/ws/events')
    await events.opened
    const bus = app.services.events.forSession(app.sessionId)
    const listenersBefore = bus.subscriberCount
    expect(listenersBefore).toBeGreaterThan(0)
    const started = await jsonOf<{ cmdId: string }>(await app.request('/api/cmd', { method: 'POST', json: { cmd: `yes ${marker}`, timeoutMs: 2000 } }))
    expect(started.status).toBe(202)
    await waitFor('command output on the socket', () => events.state.tail.includes(marker), 10_000)
    events.ws.close()
    await waitFor('the server to drop the listener and the socket', () => bus.subscriberCount === listenersBefore - 1 && app.services.sockets.count(app.sessionId) === 0)
    await healthzPromptly()
    const ended = await waitFor('the command to time out', async () => {
      const view = await jsonOf<{ status: string }>(await app.request(`/api/cmd/${started.body.cmdId}`))
      return view.body.status === 'running' ? undefined : view.body
    }, 10_000)
    expect(ended.status).toBe('timedOut')
    await expectNoLeftovers([marker])
  }, 30_000)
})
