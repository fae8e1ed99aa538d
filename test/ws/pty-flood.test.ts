import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { DEFAULT_PTY_FLOW } from '../../src/ws'
import { makeWsTestApp, TestSocket, typeLine, type WsTestApp } from './helpers'

setDefaultTimeout(60_000)

/** Small figures so a flood passes them at once on any machine, and a repaint comes quickly. */
const RATE = 64 * 1024
const BURST = 16 * 1024
const SCROLLBACK = 16 * 1024
const RESET = '\x1bc'

let t: WsTestApp

beforeAll(async () => {
  t = await makeWsTestApp({
    services: {
      ws: { ptyFlow: { ...DEFAULT_PTY_FLOW, liveBytesPerSecond: RATE, burstBytes: BURST } },
      terminals: { scrollbackBytes: SCROLLBACK },
    },
  })
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

describe('/ws/pty while a shell floods', () => {
  it('sends a flood at the live rate, skipping to repaints, and ends on the screen the flood left', async () => {
    await t.terminals.stopSession(t.sessionId)
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    typeLine(socket, 'echo READY-$((1+1))')
    await socket.untilText('READY-2\r\n')
    const started = performance.now()
    const before = socket.text.length
    // about 3.4 MB of output, then a marker only the last screen holds
    typeLine(socket, 'seq 1 500000; echo FLOOD-DONE-$((40+2))')
    await socket.untilText('FLOOD-DONE-42\r\n', 50_000)
    const elapsedS = (performance.now() - started) / 1000
    const received = socket.text.length - before
    // skipped, not torn: the screen was repainted, and the last line seq printed is there
    expect(socket.text).toContain(RESET)
    expect(socket.text.slice(socket.text.lastIndexOf(RESET))).toContain('500000\r\nFLOOD-DONE-42\r\n')
    // never more than the burst, the rate for the time it took, and one repaint of the scrollback
    expect(received).toBeLessThan(BURST + RATE * elapsedS + SCROLLBACK + 4096)
    expect(received).toBeLessThan(3_400_000 / 4)
    socket.close()
  })

  it('keeps the shell live for typing after a flood', async () => {
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    typeLine(socket, 'seq 1 300000 >/dev/tty; echo AFTER-$((2+3))')
    await socket.untilText('AFTER-5\r\n', 50_000)
    typeLine(socket, 'echo STILL-$((3+4))-HERE')
    await socket.untilText('STILL-7-HERE\r\n')
    socket.close()
  })
})
