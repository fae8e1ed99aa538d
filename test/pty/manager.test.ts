import { afterAll, afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TerminalManager, type TerminalExit, type TerminalManagerOptions, type TerminalViewer } from '../../src/pty'
import { MemorySessionStore } from '../../src/session'

setDefaultTimeout(30_000)

const repo = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-manager-')))
const store = new MemorySessionStore(3600)
const managers: TerminalManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.shutdown()))
})
afterAll(() => rmSync(repo, { recursive: true, force: true }))

function manager(options: Partial<TerminalManagerOptions> = {}): TerminalManager {
  // A plain sh starts fast and behaves the same on every machine.
  const created = new TerminalManager({ scrollbackBytes: 65536, idleSeconds: 60, maxPerSession: 4, maxTotal: 8, shell: '/bin/sh', environment: process.env, killGraceMs: 300, ...options })
  managers.push(created)
  return created
}

class Viewer implements TerminalViewer {
  text = ''
  exits: TerminalExit[] = []
  output(chunk: string): void {
    this.text += chunk
  }
  exit(exit: TerminalExit): void {
    this.exits.push(exit)
  }
  async until(pattern: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.text.includes(pattern)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(this.text)}`)
      await Bun.sleep(10)
    }
  }
}

describe('TerminalManager', () => {
  it('starts one shell per session in its repo and shares it between viewers, the second getting the replay', async () => {
    const terminals = manager()
    const session = store.create({ repo })
    const first = new Viewer()
    const { terminal } = terminals.attach(session, first)
    terminal.write('echo PWD-$(pwd)-END\r')
    await first.until(`PWD-${repo}-END`)
    const second = new Viewer()
    const again = terminals.attach(session, second)
    expect(again.terminal).toBe(terminal)
    expect(again.replay).toContain(`PWD-${repo}-END`)
    // Arithmetic, so the terminal's echo of the command line cannot match too early.
    terminal.write('echo BOTH-$((1+1))\r')
    await first.until('BOTH-2\r\n')
    await second.until('BOTH-2\r\n')
    expect(terminals.viewerCount(session.id)).toBe(2)
  })

  it('gives the shell TERM=xterm-256color and none of the server secrets', async () => {
    process.env.PAIRING_TOKEN = 'pairing-secret-in-the-server-env'
    try {
      const terminals = manager()
      const viewer = new Viewer()
      const { terminal } = terminals.attach(store.create({ repo }), viewer)
      terminal.write('env; echo ENV-$((2+3))-DONE\r')
      await viewer.until('ENV-5-DONE\r\n')
      expect(viewer.text).toContain('TERM=xterm-256color')
      expect(viewer.text).not.toContain('pairing-secret-in-the-server-env')
    } finally {
      delete process.env.PAIRING_TOKEN
    }
  })

  it('keeps the shell when the last viewer leaves and stops it after idleSeconds', async () => {
    const terminals = manager({ idleSeconds: 0.3 })
    const session = store.create({ repo })
    const viewer = new Viewer()
    const { terminal } = terminals.attach(session, viewer)
    terminals.detach(session.id, viewer)
    expect(terminal.alive).toBe(true)
    await terminal.exited
    expect(terminals.terminalOf(session.id)).toBeUndefined()
    // Detached viewers hear nothing, not even the exit.
    expect(viewer.exits).toEqual([])
  })

  it('stops a shell started for a client that never attached after idleSeconds', async () => {
    const terminals = manager({ idleSeconds: 0.3 })
    const session = store.create({ repo })
    const terminal = terminals.ensureShell(session)
    expect(terminals.ensureShell(session)).toBe(terminal)
    await terminal.exited
    expect(terminals.terminalOf(session.id)).toBeUndefined()
  })

  it('answers 409 repo_missing when the session repo is gone', () => {
    const terminals = manager()
    const session = store.create({ repo: join(repo, 'deleted-meanwhile') })
    expect(() => terminals.ensureShell(session)).toThrow(expect.objectContaining({ status: 409, kind: 'repo_missing' }))
  })

  it('does not stop a shell someone re-attached to before idleSeconds', async () => {
    const terminals = manager({ idleSeconds: 0.3 })
    const session = store.create({ repo })
    const viewer = new Viewer()
    const { terminal } = terminals.attach(session, viewer)
    terminals.detach(session.id, viewer)
    terminals.attach(session, viewer)
    await Bun.sleep(600)
    expect(terminal.alive).toBe(true)
  })

  it('tells viewers when the shell exits and starts a new one on the next attach', async () => {
    const terminals = manager()
    const session = store.create({ repo })
    const viewer = new Viewer()
    const { terminal } = terminals.attach(session, viewer)
    terminal.write('exit 4\r')
    await terminal.exited
    expect(viewer.exits).toEqual([expect.objectContaining({ code: 4 })])
    const next = terminals.attach(session, new Viewer())
    expect(next.terminal.pid).not.toBe(terminal.pid)
  })

  it('stopSession kills the shell and tells its viewers', async () => {
    const terminals = manager()
    const session = store.create({ repo })
    const viewer = new Viewer()
    const { terminal } = terminals.attach(session, viewer)
    await terminals.stopSession(session.id)
    expect(terminal.alive).toBe(false)
    expect(viewer.exits).toHaveLength(1)
    expect(terminals.terminalOf(session.id)).toBeUndefined()
  })

  it('starts the shell at a size set by resize before it ran', async () => {
    const terminals = manager()
    const session = store.create({ repo })
    terminals.resize(session.id, 77, 21)
    const viewer = new Viewer()
    terminals.attach(session, viewer).terminal.write('stty size\r')
    await viewer.until('21 77\r\n')
  })

  it('refuses a viewer past maxPerSession with 429 and a shell past maxTotal with 503', () => {
    const terminals = manager({ maxPerSession: 1, maxTotal: 1 })
    const session = store.create({ repo })
    terminals.attach(session, new Viewer())
    expect(() => terminals.attach(session, new Viewer())).toThrow(expect.objectContaining({ status: 429, kind: 'too_many_requests' }))
    expect(() => terminals.attach(store.create({ repo }), new Viewer())).toThrow(expect.objectContaining({ status: 503, kind: 'too_many_terminals' }))
  })

  it('refuses new shells with 503 after shutdown, which stops every shell', async () => {
    const terminals = manager()
    const { terminal } = terminals.attach(store.create({ repo }), new Viewer())
    await terminals.shutdown()
    expect(terminal.alive).toBe(false)
    expect(() => terminals.attach(store.create({ repo }), new Viewer())).toThrow(expect.objectContaining({ status: 503, kind: 'shutting_down' }))
  })

  it('answers 503 naming the shell when it cannot start', () => {
    const terminals = manager({ shell: join(repo, 'no-such-shell') })
    expect(() => terminals.attach(store.create({ repo }), new Viewer())).toThrow(expect.objectContaining({ status: 503, kind: 'terminal_unavailable' }))
    expect(terminals.runningCount).toBe(0)
  })
})
