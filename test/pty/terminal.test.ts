import { afterAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppError } from '../../src/errors'
import { buildChildEnv } from '../../src/policy/env'
import { Terminal, type TerminalOptions } from '../../src/pty'
import { processesInSession } from '../ws/helpers'

setDefaultTimeout(30_000)

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-pty-')))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function sh(script: string, extra: Partial<TerminalOptions> = {}): Terminal {
  return Terminal.spawn({ file: '/bin/sh', args: ['-c', script], cwd: dir, env: buildChildEnv(process.env), scrollbackBytes: 1 << 20, ...extra })
}

function collect(terminal: Terminal): { text: () => string } {
  let text = ''
  terminal.onData((chunk) => (text += chunk))
  return { text: () => text }
}

async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

describe('Terminal', () => {
  it('runs the program on a terminal in cwd with exactly the environment given', async () => {
    const env = buildChildEnv({ ...process.env, JWT_SECRET: 'server-secret-value' }, { TERM: 'xterm-256color' })
    const terminal = sh('[ -t 0 ] && [ -t 1 ] && echo IS-A-TTY; pwd; env', { env })
    const out = collect(terminal)
    expect((await terminal.exited).code).toBe(0)
    expect(out.text()).toContain('IS-A-TTY')
    expect(out.text()).toContain(`${dir}\r\n`)
    expect(out.text()).toContain('TERM=xterm-256color')
    expect(out.text()).not.toContain('server-secret-value')
  })

  it('reports the real exit code and the duration', async () => {
    const terminal = sh('sleep 0.2; exit 3')
    const exit = await terminal.exited
    expect(exit.code).toBe(3)
    expect(exit.signal).toBeUndefined()
    expect(exit.durationMs).toBeGreaterThanOrEqual(150)
    expect(terminal.alive).toBe(false)
  })

  it('delivers output written just before the exit before reporting the exit', async () => {
    const terminal = sh('printf "last words"')
    const out = collect(terminal)
    let atExit = ''
    terminal.onExit(() => (atExit = out.text()))
    await terminal.exited
    expect(atExit).toBe('last words')
  })

  it('keeps multibyte characters intact when a read splits them', async () => {
    // An odd offset puts read boundaries inside the 3-byte euro signs.
    writeFileSync(join(dir, 'euros.txt'), '€'.repeat(100_000))
    const terminal = sh('printf a; cat euros.txt; printf b')
    const out = collect(terminal)
    await terminal.exited
    expect(out.text()).toBe(`a${'€'.repeat(100_000)}b`)
  })

  it('keeps a bounded scrollback of the newest output', async () => {
    const terminal = sh('i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done', { scrollbackBytes: 1000 })
    await terminal.exited
    const kept = terminal.scrollback()
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1000)
    expect(kept.endsWith('line 2999\r\n')).toBe(true)
  })

  it('hands a subscriber the scrollback and then only later output', async () => {
    const terminal = sh('echo before; read x; echo after-$x')
    await until(() => terminal.scrollback().includes('before'), 'first output')
    let live = ''
    const { replay } = terminal.subscribe((chunk) => (live += chunk))
    terminal.write('go\r')
    await terminal.exited
    expect(replay).toContain('before')
    expect(live).not.toContain('before')
    expect(live).toContain('after-go')
    expect(replay + live).toBe(terminal.scrollback())
  })

  it('kills with a hang-up and reports the signal, taking background jobs of its session along', async () => {
    const terminal = Terminal.spawn({ file: '/bin/bash', args: ['--norc', '-i'], cwd: dir, env: buildChildEnv(process.env), scrollbackBytes: 65536 })
    const out = collect(terminal)
    terminal.write("(trap '' HUP; exec sleep 1003) & echo STARTED-$((3+4))\r")
    await until(() => out.text().includes('STARTED-7\r\n'), 'the job')
    await until(() => processesInSession(terminal.pid).some((p) => p.includes('sleep 1003')), 'sleep in the process table')
    await terminal.kill(400)
    expect(await terminal.exited).toMatchObject({ code: null, signal: 'SIGHUP' })
    expect(processesInSession(terminal.pid)).toEqual([])
  })

  it('escalates to SIGKILL for a program that ignores SIGHUP and SIGTERM', async () => {
    const terminal = sh("trap '' HUP TERM; echo ready; while :; do sleep 0.05; done")
    const out = collect(terminal)
    await until(() => out.text().includes('ready'), 'ready')
    await terminal.kill(300)
    expect(await terminal.exited).toMatchObject({ code: null, signal: 'SIGKILL' })
    expect(processesInSession(terminal.pid)).toEqual([])
  })

  it('stops what a finished program left running in its session', async () => {
    const terminal = sh("(trap '' HUP; exec sleep 1004) & echo $!; exit 0")
    const out = collect(terminal)
    expect((await terminal.exited).code).toBe(0)
    const orphan = Number(out.text().trim())
    await until(() => processesInSession(terminal.pid).length === 0, 'the orphan to be gone')
    expect(Number.isInteger(orphan) && orphan > 0).toBe(true)
  })

  it('calls an exit listener added after the exit', async () => {
    const terminal = sh('exit 5')
    await terminal.exited
    const late = await new Promise((resolve) => terminal.onExit(resolve))
    expect(late).toMatchObject({ code: 5 })
  })

  it('resizes, and refuses a size outside 1..1000 with bad_terminal_size', async () => {
    const terminal = sh('read x; stty size')
    const out = collect(terminal)
    terminal.resize(132, 43)
    expect(() => terminal.resize(0, 10)).toThrow(AppError)
    expect(() => terminal.resize(80, 1001)).toThrow(expect.objectContaining({ status: 400, kind: 'bad_terminal_size' }))
    terminal.write('\r')
    await terminal.exited
    expect(out.text()).toContain('43 132')
  })

  it('refuses a working directory that does not exist with 400 bad_cwd, and a missing program', () => {
    expect(() => sh('true', { cwd: join(dir, 'missing') })).toThrow(expect.objectContaining({ status: 400, kind: 'bad_cwd' }))
    expect(() => Terminal.spawn({ file: join(dir, 'no-such-program'), args: [], cwd: dir, env: {}, scrollbackBytes: 10 })).toThrow(/could not start/)
  })
})
