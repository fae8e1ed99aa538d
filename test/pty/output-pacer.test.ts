import { describe, expect, it } from 'bun:test'
import { OutputPacer, type FlowControlPort } from '../../src/pty'

// The termios bits of this platform (see output-pacer.ts); the real-PTY behaviour is in pacing.test.ts.
const LINUX = process.platform === 'linux'
const IXON = LINUX ? 0o2000 : 0x200
const IXANY = LINUX ? 0o4000 : 0x800
const ISIG = LINUX ? 0o1 : 0x80

/** A terminal that records what the pacer types, with flags the test sets. */
function fakePort(iflag = IXON, lflag = ISIG): FlowControlPort & { sent: string[]; iflag: number; lflag: number } {
  const port = {
    sent: [] as string[],
    iflag,
    lflag,
    inputFlags: () => port.iflag,
    localFlags: () => port.lflag,
    send: (char: string) => void port.sent.push(char),
  }
  return port
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

const FAST = { burstBytes: 10_000, bytesPerSecond: 1_000_000 }
const SLOW = { burstBytes: 10_000, bytesPerSecond: 1 }

describe('OutputPacer', () => {
  it('types XOFF once output goes past the burst, once, and XON when the bucket has refilled', async () => {
    const port = fakePort()
    const pacer = new OutputPacer(FAST, port)
    pacer.read(9_000)
    expect(port.sent).toEqual([])
    pacer.read(2_000)
    pacer.read(50_000)
    expect(port.sent).toEqual(['\x13'])
    expect(pacer.pausing).toBe(true)
    await until(() => !pacer.pausing, 'the resume')
    expect(port.sent).toEqual(['\x13', '\x11'])
    expect(pacer.pauses).toBe(1)
    pacer.stop()
  })

  it('types nothing while IXON is off, and a raw flood leaves no debt for the next program', async () => {
    const port = fakePort(0)
    const pacer = new OutputPacer({ burstBytes: 100_000, bytesPerSecond: 1_000_000 }, port)
    for (let i = 0; i < 1000; i++) pacer.read(10_000)
    expect(port.sent).toEqual([])
    port.iflag = IXON
    await Bun.sleep(30)
    // 30 ms at 1 MB/s refilled at least 30 kB; a debt of 10 MB would have stopped this read.
    pacer.read(1_000)
    expect(port.sent).toEqual([])
    expect(pacer.pauses).toBe(0)
    pacer.stop()
  })

  it("does not type XON over the user's ^S, and follows the user's ^Q", async () => {
    const port = fakePort()
    const pacer = new OutputPacer(FAST, port)
    pacer.read(20_000)
    expect(port.sent).toEqual(['\x13'])
    pacer.typed('\x13')
    await until(() => !pacer.pausing, 'the pause to end')
    expect(port.sent).toEqual(['\x13'])
    pacer.typed('\x11')
    await Bun.sleep(30)
    pacer.read(20_000)
    expect(port.sent).toEqual(['\x13', '\x13'])
    pacer.stop()
  })

  it('does not stop output the user already stopped', () => {
    const port = fakePort()
    const pacer = new OutputPacer(SLOW, port)
    pacer.typed('ls\r\x13')
    pacer.read(50_000)
    expect(port.sent).toEqual([])
    pacer.stop()
  })

  it('knows what resumes output: ^Q; ^C, ^\\ and ^Z with ISIG; any key with IXANY', () => {
    const cases: Array<{ iflag: number; lflag: number; typed: string; resumed: boolean }> = [
      { iflag: IXON, lflag: ISIG, typed: '\x11', resumed: true },
      { iflag: IXON, lflag: ISIG, typed: 'a', resumed: false },
      { iflag: IXON, lflag: ISIG, typed: '\x03', resumed: true },
      { iflag: IXON, lflag: ISIG, typed: '\x1c', resumed: true },
      { iflag: IXON, lflag: ISIG, typed: '\x1a', resumed: true },
      { iflag: IXON, lflag: 0, typed: '\x03', resumed: false },
      { iflag: IXON | IXANY, lflag: 0, typed: 'a', resumed: true },
      { iflag: IXON | IXANY, lflag: 0, typed: 'a\x13', resumed: false },
      { iflag: IXON, lflag: ISIG, typed: '\x11\x13', resumed: false },
    ]
    for (const c of cases) {
      const port = fakePort(c.iflag, c.lflag)
      const pacer = new OutputPacer(SLOW, port)
      pacer.typed('\x13')
      pacer.typed(c.typed)
      // Output past the bucket is stopped by the pacer only when the user's pause is over.
      pacer.read(50_000)
      expect({ ...c, resumed: port.sent.length === 1 }).toEqual(c)
      pacer.stop()
    }
  })

  it('takes ^S typed while IXON is off as a keystroke, not a pause', () => {
    const port = fakePort(0)
    const pacer = new OutputPacer(SLOW, port)
    pacer.typed('\x13')
    port.iflag = IXON
    pacer.read(50_000)
    expect(port.sent).toEqual(['\x13'])
    pacer.stop()
  })

  it('types no XON when IXON went off during its pause (the kernel resumed output then)', async () => {
    const port = fakePort()
    const pacer = new OutputPacer(FAST, port)
    pacer.read(20_000)
    port.iflag = 0
    await until(() => !pacer.pausing, 'the pause to end')
    expect(port.sent).toEqual(['\x13'])
    pacer.stop()
  })

  it('release() resumes held output before a kill and paces no more; stop() silences it', async () => {
    const port = fakePort()
    const pacer = new OutputPacer(SLOW, port)
    pacer.read(20_000)
    pacer.release()
    expect(port.sent).toEqual(['\x13', '\x11'])
    pacer.read(50_000)
    pacer.typed('\x13')
    pacer.release()
    expect(port.sent).toEqual(['\x13', '\x11'])

    const idle = fakePort()
    new OutputPacer(SLOW, idle).release()
    expect(idle.sent).toEqual([])

    const stopped = fakePort()
    const quiet = new OutputPacer(FAST, stopped)
    quiet.read(20_000)
    quiet.stop()
    await Bun.sleep(50)
    quiet.release()
    expect(stopped.sent).toEqual(['\x13'])
    expect(quiet.pausing).toBe(false)
  })

  it('owes at most one burst, so a pause is bounded however late XOFF landed', async () => {
    const port = fakePort()
    const pacer = new OutputPacer({ burstBytes: 5_000, bytesPerSecond: 100_000 }, port)
    // 10 MB read before the XOFF took effect would be 100 s of debt; one burst is 50 ms.
    pacer.read(10_000_000)
    expect(port.sent).toEqual(['\x13'])
    await until(() => !pacer.pausing, 'the pause to end')
    expect(port.sent).toEqual(['\x13', '\x11'])
    pacer.stop()
  })

  it('never stops output at an unlimited pace (a test server that measures the raw path)', () => {
    const port = fakePort()
    const pacer = new OutputPacer({ burstBytes: Number.POSITIVE_INFINITY, bytesPerSecond: Number.POSITIVE_INFINITY }, port)
    for (let i = 0; i < 1000; i++) pacer.read(1 << 20)
    expect(port.sent).toEqual([])
    pacer.stop()
  })

  it('refuses a pace without a positive burst and rate', () => {
    expect(() => new OutputPacer({ burstBytes: 0, bytesPerSecond: 1 }, fakePort())).toThrow()
    expect(() => new OutputPacer({ burstBytes: 1, bytesPerSecond: Number.NaN }, fakePort())).toThrow()
  })
})
