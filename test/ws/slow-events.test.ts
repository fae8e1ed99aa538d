import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { OutputEvent } from '../../src/events'
import { CLOSE, DEFAULT_MAX_QUEUED_BYTES } from '../../src/ws'
import { makeWsTestApp, TestSocket } from './helpers'

const EVENT_CHARS = 16 * 1024
const EVENTS = 2000

it(
  'drops a frozen events client with 1013 once its queue passes the bound; another client gets every event in order',
  async () => {
    await using t = await makeWsTestApp()
    const healthy = new TestSocket(t.eventsUrl())
    await healthy.opened
    await healthy.untilFrames(1)

    const frozen = Bun.spawn(['bun', join(import.meta.dir, 'fixtures', 'counting-client.ts'), t.eventsUrl()], { stdout: 'pipe', stderr: 'inherit' })
    try {
      const reader = frozen.stdout.getReader()
      let out = ''
      const nextLine = async () => {
        while (!out.includes('\n')) out += new TextDecoder().decode((await reader.read()).value)
        const line = out.slice(0, out.indexOf('\n'))
        out = out.slice(out.indexOf('\n') + 1)
        return line
      }
      expect(await nextLine()).toBe('open')
      // The frozen client's resume frame arrives before it is stopped.
      await Bun.sleep(200)
      process.kill(frozen.pid, 'SIGSTOP')

      const data = 'y'.repeat(EVENT_CHARS)
      for (let i = 0; i < EVENTS; i++) {
        t.services.events.publish(t.sessionId, OutputEvent, { taskId: 'flood', data })
        if (i % 100 === 99) await Bun.sleep(1)
      }
      process.kill(frozen.pid, 'SIGCONT')
      const closed = JSON.parse(await nextLine()) as { code: number; reason: string; received: number }
      expect(closed.code).toBe(CLOSE.tooSlow)
      expect(closed.reason).toContain('resumeSeq')
      // What it was sent stopped near the bound (plus what the kernel buffers held), far below everything.
      expect(closed.received).toBeLessThan(EVENTS * EVENT_CHARS / 2)
      expect(closed.received).toBeGreaterThan(DEFAULT_MAX_QUEUED_BYTES / 2)

      await healthy.untilFrames(1 + EVENTS, 60_000)
      const seqs = healthy.json().slice(1).map((event) => event.seq as number)
      expect(seqs).toEqual(Array.from({ length: EVENTS }, (_, i) => seqs[0]! + i))
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN)
      healthy.close()
    } finally {
      frozen.kill('SIGKILL')
    }
  },
  { timeout: 90_000 },
)
