import { afterAll, afterEach, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildChildEnv } from '../../src/policy/env'
import { Terminal, type OutputPace } from '../../src/pty'
import { processesInSession } from '../ws/helpers'

setDefaultTimeout(30_000)

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-pacing-')))
const started: Terminal[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((terminal) => terminal.kill(200)))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function sh(script: string, pace: OutputPace): Terminal {
  const terminal = Terminal.spawn({ file: '/bin/sh', args: ['-c', script], cwd: dir, env: buildChildEnv(process.env), scrollbackBytes: 1 << 16, pace })
  started.push(terminal)
  return terminal
}

/** What a terminal printed: how much, all of it up to 4 MiB, and its last 200 characters. */
function count(terminal: Terminal): { bytes: () => number; text: () => string; tail: () => string } {
  let bytes = 0
  let text = ''
  let tail = ''
  terminal.onData((chunk) => {
    bytes += chunk.length
    if (text.length < 4 << 20) text += chunk
    tail = (tail + chunk).slice(-200)
  })
  return { bytes: () => bytes, text: () => text, tail: () => tail }
}

async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** What Bun has read but not yet handed over, plus what the PTY holds, when XOFF lands: a few MB at most. */
const IN_FLIGHT_MARGIN = 8 << 20

/** The state letter of each live process of the terminal's session (R running, S sleeping). */
function sessionStates(terminal: Terminal): string[] {
  return processStates(terminal.pid)
}

function processStates(sid: number): string[] {
  const ps = Bun.spawnSync(['ps', '-eo', 'sid=,stat=']).stdout.toString()
  return ps
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => Number(cols[0]) === sid && !cols[1]?.startsWith('Z'))
    .map((cols) => cols[1]![0]!)
}

describe('Terminal output pacing', () => {
  it('holds a flooding program in write() past the bucket: what is read is bounded by burst + rate x time', async () => {
    const pace = { burstBytes: 32 * 1024, bytesPerSecond: 1024 }
    const terminal = sh('exec yes', pace)
    const out = count(terminal)
    const startedAt = performance.now()
    await until(() => terminal.outputPauses > 0, 'the first pause')
    await Bun.sleep(3000)
    const seconds = (performance.now() - startedAt) / 1000
    // Unpaced, `yes` on a PTY is read at several MB a second here.
    expect(out.bytes()).toBeLessThan(pace.burstBytes + pace.bytesPerSecond * seconds + IN_FLIGHT_MARGIN)
    // Held (the bucket refills at 1 KiB/s, so pauses last up to 32 s), `yes` sleeps in write().
    await until(() => terminal.outputHeld && sessionStates(terminal).join() === 'S', 'yes held and asleep')
  })

  it('delivers paced output complete and in order, holding the program back on the way', async () => {
    const terminal = sh('seq 1 200000', { burstBytes: 64 * 1024, bytesPerSecond: 1024 * 1024 })
    const out = count(terminal)
    expect((await terminal.exited).code).toBe(0)
    const expected = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\r\n`).join('')
    expect(out.text().length).toBe(expected.length)
    expect(out.text() === expected).toBe(true)
    expect(terminal.outputPauses).toBeGreaterThan(0)
  })

  it("leaves the user's own ^S standing when its pause would end, and resumes on the user's ^Q", async () => {
    // 6.9 MB: far more than the PTY and Bun's read-ahead hold, so seq is still writing when paused.
    const terminal = sh('seq 1 1000000; echo SEQ-DONE', { burstBytes: 64 * 1024, bytesPerSecond: 4 * 1024 * 1024 })
    const out = count(terminal)
    await until(() => terminal.outputHeld, 'the pacer to pause')
    terminal.write('\x13')
    // The pacer's resume timer comes and goes without typing XON.
    await until(() => !terminal.outputHeld, "the pacer's pause to end")
    // What was read before the pause is handed over late on a busy machine: wait for it to stop.
    let last = { bytes: out.bytes(), at: performance.now() }
    await until(() => {
      if (out.bytes() !== last.bytes) last = { bytes: out.bytes(), at: performance.now() }
      return performance.now() - last.at > 500
    }, 'output to stop')
    const held = out.bytes()
    await Bun.sleep(1000)
    expect(out.bytes()).toBe(held)
    expect(sessionStates(terminal).join()).toBe('S,S')
    terminal.write('\x11')
    expect((await terminal.exited).code).toBe(0)
    expect(out.tail()).toEndWith('999999\r\n1000000\r\nSEQ-DONE\r\n')
    expect(/[\x11\x13]/.test(out.text())).toBe(false)
  })

  for (const mode of ['-ixon', 'raw']) {
    it(`types no ^S/^Q into a program that turned IXON off (stty ${mode}), and does not hold it back`, async () => {
      // The flood is far past the bucket; then the program reads 4 bytes of input and shows them in hex.
      const script = `stty ${mode} -echo; seq 1 300000; echo FLOOD-DONE; dd bs=1 count=4 2>/dev/null | od -An -tx1`
      const terminal = sh(script, { burstBytes: 16 * 1024, bytesPerSecond: 64 * 1024 })
      const out = count(terminal)
      await until(() => out.text().includes('FLOOD-DONE'), 'the flood to end')
      terminal.write(mode === 'raw' ? 'end!' : 'end!\r')
      expect((await terminal.exited).code).toBe(0)
      expect(out.text()).toMatch(/FLOOD-DONE\r?\n 65 6e 64 21/)
      expect(terminal.outputPauses).toBe(0)
    })
  }

  it('kills a held program promptly, letting its hang-up handler print first', async () => {
    const terminal = sh("trap 'echo HANGUP-HANDLED; exit 7' HUP; yes; echo yes-ended-unexpectedly", { burstBytes: 16 * 1024, bytesPerSecond: 1024 })
    const out = count(terminal)
    await until(() => terminal.outputHeld, 'the pacer to pause')
    await terminal.kill(4000)
    expect((await terminal.exited).code).toBe(7)
    expect(out.text()).toContain('HANGUP-HANDLED')
    expect(processesInSession(terminal.pid)).toEqual([])
  })

  it('kills a held program that ignores hang-ups, and what it never gets to write does not hold the exit', async () => {
    const terminal = sh("trap '' HUP TERM; exec yes", { burstBytes: 16 * 1024, bytesPerSecond: 1024 })
    await until(() => terminal.outputHeld, 'the pacer to pause')
    await terminal.kill(300)
    expect(await terminal.exited).toMatchObject({ code: null, signal: 'SIGKILL' })
    expect(processesInSession(terminal.pid)).toEqual([])
    expect(terminal.outputHeld).toBe(false)
  })

  it('leaves nothing that keeps the process alive once a held terminal has ended', async () => {
    const script = `
      import { Terminal } from ${JSON.stringify(join(import.meta.dir, '../../src/pty'))}
      const terminal = Terminal.spawn({ file: '/bin/sh', args: ['-c', 'exec yes'], cwd: ${JSON.stringify(dir)}, env: { PATH: ${JSON.stringify(process.env.PATH ?? '/usr/bin:/bin')} }, scrollbackBytes: 1024, pace: { burstBytes: 16384, bytesPerSecond: 1024 } })
      while (!terminal.outputHeld) await Bun.sleep(10)
      await terminal.kill(300)
      console.log('ended', JSON.stringify(await terminal.exited))
    `
    const child = Bun.spawn([process.execPath, '-e', script], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()])
    expect(stdout).toContain('ended')
    expect(code).toBe(0)
  })
})
