/**
 * WebSocket benchmarks: terminal throughput against a bare PTY on the same machine and keystroke
 * echo round trip, on the compiled binary. Events fan-out (with and without state.db) is
 * bench-persistence.ts.
 *
 * Usage: bun scripts/bench-ws.ts [--binary dist/cockpit-coder] [--quick]
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBenchServer } from './bench-server'

export type WsBench = {
  fileMB: number
  terminalMBps: number
  barePtyMBps: number
  throughputRatio: number
  /** Characters the client received over the file's size (worst run): below 1 when output was skipped for lag. */
  terminalDelivered: number
  echoSamples: number
  echoP50Ms: number
  echoP99Ms: number
  /** The same round trip while another session's shell floods its terminal (`yes`). */
  echoUnderFloodP50Ms: number
  echoUnderFloodP99Ms: number
}

type Session = { sessionId: string; token: string }

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

export function openPty(wsUrl: string, session: Session) {
  const ws = new WebSocket(`${wsUrl}/ws/pty?sessionId=${session.sessionId}&token=${session.token}&cols=200&rows=50`)
  const state = { received: 0, tail: '', frames: 0, xs: 0, onFrame: (): void => {} }
  ws.onmessage = (event) => {
    const text = String(event.data)
    state.received += text.length
    for (let i = text.indexOf('x'); i !== -1; i = text.indexOf('x', i + 1)) state.xs++
    state.frames++
    state.tail = (state.tail + text).slice(-512)
    state.onFrame()
  }
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('terminal socket failed'))
  })
  const until = (pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; tail ${JSON.stringify(state.tail)}`)), timeoutMs)
      const check = () => {
        if (!pattern.test(state.tail)) return
        clearTimeout(timer)
        state.onFrame = () => {}
        resolve()
      }
      state.onFrame = check
      check()
    })
  return { ws, state, opened, until }
}

async function throughput(wsUrl: string, session: Session, file: string, bytes: number) {
  const pty = openPty(wsUrl, session)
  await pty.opened
  pty.ws.send('echo READY-$((1+1))\r')
  await pty.until(/READY-2\r\n/)
  await Bun.sleep(200)
  const before = pty.state.received
  const started = performance.now()
  pty.ws.send(`cat ${file}; echo; echo CAT-DONE-$((3+4))\r`)
  await pty.until(/CAT-DONE-7\r\n/)
  const seconds = (performance.now() - started) / 1000
  const received = pty.state.received - before
  pty.ws.close()
  return { mbps: received / seconds / 1e6, delivered: received / bytes }
}

function barePty(file: string, bytes: number): number {
  const started = performance.now()
  const result = Bun.spawnSync(['script', '-qfc', `cat ${file}`, '/dev/null'], { stdout: 'ignore', stderr: 'inherit' })
  if (result.exitCode !== 0) throw new Error('script(1) failed; the bare PTY reference needs util-linux script')
  return bytes / ((performance.now() - started) / 1000) / 1e6
}

export async function echoRoundTrips(wsUrl: string, session: Session, samples: number): Promise<number[]> {
  const pty = openPty(wsUrl, session)
  await pty.opened
  pty.ws.send('echo READY-$((2+2))\r')
  await pty.until(/READY-4\r\n/)
  await Bun.sleep(300)
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    if (i % 50 === 49) {
      // Ctrl-U: keep the line short so readline's echo stays one character.
      pty.ws.send('\x15')
      await Bun.sleep(20)
    }
    const echoed = pty.state.xs
    const sent = performance.now()
    await new Promise<void>((resolve) => {
      // The echo is readline writing this character back: one more 'x' than before it was sent.
      pty.state.onFrame = () => {
        if (pty.state.xs > echoed) resolve()
      }
      pty.ws.send('x')
    })
    times.push(performance.now() - sent)
  }
  pty.ws.close()
  return times.sort((a, b) => a - b)
}

export async function benchWs(options: { binary: string; quick?: boolean }): Promise<WsBench> {
  const fileBytes = options.quick ? 50_000_000 : 200_000_000
  const server = await startBenchServer(options.binary)
  try {
    const file = join(server.repo, 'big.txt')
    // Printable lines, as a log would be; a PTY turns each \n into \r\n on the way out.
    const line = 'x'.repeat(99) + '\n'
    writeFileSync(file, line.repeat(fileBytes / line.length))
    const expected = fileBytes + fileBytes / line.length
    // The machine is shared and noisy: alternate reference and ours, keep the medians.
    const bareRuns: number[] = []
    const ourRuns: { mbps: number; delivered: number }[] = []
    for (let run = 0; run < (options.quick ? 1 : 3); run++) {
      bareRuns.push(barePty(file, fileBytes))
      ourRuns.push(await throughput(server.wsUrl, await server.pair(), file, expected))
    }
    const bare = median(bareRuns)
    const ours = { mbps: median(ourRuns.map((r) => r.mbps)), delivered: Math.min(...ourRuns.map((r) => r.delivered)) }
    const echo = await echoRoundTrips(server.wsUrl, await server.pair(), options.quick ? 200 : 1000)
    const flood = openPty(server.wsUrl, await server.pair())
    await flood.opened
    flood.ws.send('yes\r')
    await flood.until(/y\r\ny\r\n/)
    const echoUnderFlood = await echoRoundTrips(server.wsUrl, await server.pair(), options.quick ? 100 : 300)
    flood.ws.send('\x03')
    flood.ws.close()
    return {
      fileMB: fileBytes / 1e6,
      terminalMBps: ours.mbps,
      barePtyMBps: bare,
      throughputRatio: ours.mbps / bare,
      terminalDelivered: ours.delivered,
      echoSamples: echo.length,
      echoP50Ms: percentile(echo, 50),
      echoP99Ms: percentile(echo, 99),
      echoUnderFloodP50Ms: percentile(echoUnderFlood, 50),
      echoUnderFloodP99Ms: percentile(echoUnderFlood, 99),
    }
  } finally {
    server.stop()
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf('--binary')
  const binary = at > 0 ? process.argv[at + 1]! : join(import.meta.dir, '..', 'dist', 'cockpit-coder')
  console.log(JSON.stringify(await benchWs({ binary, quick: process.argv.includes('--quick') }), null, 2))
}
