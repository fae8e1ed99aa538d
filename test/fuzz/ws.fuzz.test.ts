/**
 * WebSocket fuzzer (the ws routes are not in /swagger/json): every bad credential is refused
 * before the upgrade with a 401 JSON body, and over real sockets to the compiled binary a seeded
 * stream of hostile frames (junk JSON, wrong types, malformed resizes, huge and binary frames)
 * never takes the server down, never closes the events socket, and leaves nothing behind once
 * the session ends. The terminal's "shell" is `cat`, so fuzzed keystrokes are echoed, not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { makeTestApp } from '../fixtures/app'
import { startBinary } from '../fixtures/binary'
import { jsonOf, leftoverProcesses, waitFor } from '../faults/support'
import { hostileNumber, hostileRawBody, hostileString, hostileValue } from './payloads'
import { Prng } from './prng'
import { sessionCredentials } from './tokens'

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_601)
const FRAMES = 1500

describe('WebSocket upgrades with bad credentials', () => {
  it('are refused with 401 JSON on both routes, for every bad credential', async () => {
    await using app = await makeTestApp()
    const doomed = await app.newSession()
    await app.app.handle(new Request(`http://localhost/api/session/${doomed.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${doomed.token}` } }))
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }
    const bad = (await sessionCredentials(app.sessionId, app.token, doomed.token)).filter((credential) => !credential.valid)
    let checked = 0
    for (const path of ['/ws/pty', '/ws/events']) {
      for (const credential of bad) {
        const query = new URLSearchParams({ sessionId: app.sessionId, ...(credential.query ? { token: credential.query } : {}) })
        const headers = { ...upgrade, ...(credential.header ? { authorization: credential.header } : {}) }
        const answer = await jsonOf(await app.app.handle(new Request(`http://localhost${path}?${query}`, { headers })))
        expect([path, credential.name, answer.status, answer.body.error]).toEqual([path, credential.name, 401, 'unauthorized'])
        checked++
      }
      // A valid token for another session's id.
      const other = await jsonOf(await app.app.handle(new Request(`http://localhost${path}?sessionId=${doomed.sessionId}&token=${app.token}`, { headers: upgrade })))
      expect([other.status, other.body.error]).toEqual([401, 'unauthorized'])
    }
    expect(checked).toBeGreaterThan(30)
  }, 30_000)
})

let server: Awaited<ReturnType<typeof startBinary>>
let sessionId: string
let token: string

beforeAll(async () => {
  server = await startBinary({ env: { SHELL: Bun.which('cat')! } })
  ;({ sessionId, token } = await server.pair())
  // A running task, so user messages are typed into it instead of each starting an agent.
  const task = await fetch(`${server.baseUrl}/api/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({ instruction: 'stay', context: { mock: { delayMs: 3_600_000 } } }),
  })
  if (task.status !== 202) throw new Error(`task: ${task.status}`)
}, 60_000)

afterAll(async () => {
  await server?.[Symbol.asyncDispose]()
}, 15_000)

type Socket = { ws: WebSocket; received: string[]; closed: { code: number; reason: string } | null }

async function open(path: string): Promise<Socket> {
  const socket: Socket = { ws: new WebSocket(`${server.baseUrl.replace('http', 'ws')}${path}?sessionId=${sessionId}&token=${token}`), received: [], closed: null }
  socket.ws.addEventListener('message', (message) => {
    socket.received.push(String(message.data).slice(0, 500))
    if (socket.received.length > 200) socket.received.splice(0, 100)
  })
  socket.ws.addEventListener('close', (event) => (socket.closed = { code: event.code, reason: event.reason }))
  await new Promise((resolve, reject) => {
    socket.ws.addEventListener('open', resolve)
    socket.ws.addEventListener('error', () => reject(new Error(`${path} did not open`)))
  })
  return socket
}

function hostileFrame(rng: Prng, forPty: boolean): string | Uint8Array {
  const roll = rng.next()
  if (roll < 0.15) return rng.chance(0.5) ? new Uint8Array(Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255))) : new TextEncoder().encode(hostileString(rng, false))
  if (roll < 0.3) {
    const raw = hostileRawBody(rng)
    return typeof raw === 'string' ? raw : raw
  }
  if (roll < 0.35) return 'x'.repeat(rng.pick([64 * 1024, 1024 * 1024]))
  const types = forPty ? ['resize', 'input', 'resize'] : ['ping', 'resize', 'user_message', 'confirmation', 'unknown', '', 'input']
  const frame: Record<string, unknown> = { type: rng.chance(0.9) ? rng.pick(types) : hostileValue(rng, false) }
  if (rng.chance(0.7)) frame.cols = rng.chance(0.5) ? hostileNumber(rng) : hostileValue(rng, false)
  if (rng.chance(0.7)) frame.rows = rng.chance(0.5) ? rng.int(-5, 2000) : hostileValue(rng, false)
  if (rng.chance(0.5)) frame.content = hostileString(rng, false)
  if (rng.chance(0.5)) frame.data = hostileString(rng, false)
  if (rng.chance(0.2)) frame.messageId = hostileValue(rng, false)
  return JSON.stringify(frame)
}

describe('hostile WebSocket frames', () => {
  it(`${FRAMES} seeded frames to /ws/events and /ws/pty never stop the server nor close the events socket`, async () => {
    const events = await open('/ws/events')
    let pty = await open('/ws/pty')
    let ptyReopened = 0
    let slowestHealthMs = 0
    for (let i = 0; i < FRAMES; i++) {
      const rng = new Prng(SEED * 104_729 + i)
      const toPty = rng.chance(0.5)
      if (toPty && pty.closed) {
        // ^C or ^D typed into `cat` ends the terminal (exit frame, close 1000); a client reconnects.
        expect(pty.closed.code).toBe(1000)
        pty = await open('/ws/pty')
        ptyReopened++
      }
      ;(toPty ? pty : events).ws.send(hostileFrame(rng, toPty))
      if (i % 100 === 99) {
        const started = performance.now()
        expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200)
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started)
        expect(events.closed).toBeNull()
      }
    }
    // Still a working events socket: a ping is answered.
    events.ws.send('{"type":"ping"}')
    await waitFor('the pong', () => events.received.some((frame) => frame === '{"type":"pong"}'), 10_000)
    console.log(`ws fuzz: ${FRAMES} frames (seed ${SEED}); terminal restarted ${ptyReopened} times; slowest /healthz ${Math.round(slowestHealthMs)} ms`)
    expect(events.closed).toBeNull()
    expect(slowestHealthMs).toBeLessThan(1500)

    const ended = await fetch(`${server.baseUrl}/api/session/${sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    expect(ended.status).toBe(200)
    await waitFor('both sockets to be closed 4410', () => events.closed?.code === 4410 && (pty.closed?.code === 4410 || pty.closed?.code === 1000), 10_000)
    await waitFor('nothing left running in the temp dirs', () => leftoverProcesses([], [server.dir]).filter((row) => row.pid !== server.proc.pid).length === 0, 10_000)
  }, 120_000)
})
