import { expect, it, setDefaultTimeout } from 'bun:test'
import { CLOSE } from '../../src/ws'
import { makeWsTestApp, processesInSession, rawUpgrade, TestSocket, typeLine } from './helpers'

setDefaultTimeout(30_000)

it('DELETE /api/session/:id closes both sockets with 4410 and leaves no process of the shell behind', async () => {
  await using t = await makeWsTestApp()
  const pty = new TestSocket(t.ptyUrl())
  const events = new TestSocket(t.eventsUrl())
  await Promise.all([pty.opened, events.opened])
  // A background job that ignores hang-ups and a foreground pipeline: under job control each has a
  // process group of its own, so killing the shell's group alone would miss them.
  typeLine(pty, "(trap '' HUP; exec sleep 1001) & echo SHELL-$$-END; sleep 1002 | cat")
  await pty.untilText(/SHELL-(\d+)-END/)
  const shellPid = Number(pty.text.match(/SHELL-(\d+)-END/)![1])
  const running = () => processesInSession(shellPid).join('\n')
  const deadline = Date.now() + 10_000
  while (!(running().includes('sleep 1001') && running().includes('sleep 1002')) && Date.now() < deadline) await Bun.sleep(50)
  expect(running()).toContain('sleep 1001')
  expect(running()).toContain('sleep 1002')

  const response = await fetch(`${t.baseUrl}/api/session/${t.sessionId}`, { method: 'DELETE', headers: t.authHeaders })
  expect(response.status).toBeLessThan(300)

  const [ptyClosed, eventsClosed] = await Promise.all([pty.closed, events.closed])
  expect(ptyClosed).toEqual({ code: CLOSE.sessionEnded, reason: 'the session was ended' })
  expect(eventsClosed).toEqual({ code: CLOSE.sessionEnded, reason: 'the session was ended' })
  expect(processesInSession(shellPid)).toEqual([])
  expect(t.terminals.terminalOf(t.sessionId)).toBeUndefined()
  // The token died with the session.
  expect((await rawUpgrade(t.ptyUrl())).status).toBe(401)
})
