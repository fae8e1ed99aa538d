/**
 * Keystroke echo in one session's terminal while another session's shell floods its own terminal
 * (`yes`): the round trip of one typed character over /ws/pty, p50 and p99. Also how much of the
 * flood its client was sent meanwhile: the echo is slow exactly when that is high (every byte
 * forwarded is CPU the echo waits for), which the live rate of src/ws/pty-connection.ts bounds.
 */
import { startBenchServer } from './bench-server'
import { echoRoundTrips, openPty } from './bench-ws'
import { percentile } from './bench-stats'

export type EchoBench = {
  samples: number
  quietP50Ms: number
  quietP99Ms: number
  floodP50Ms: number
  floodP99Ms: number
  floodMaxMs: number
  /** What the flooding session's client received per second while the echoes were timed. */
  floodClientMBps: number
}

export async function benchEcho(options: { binary: string; samples?: number }): Promise<EchoBench> {
  const samples = options.samples ?? 300
  const server = await startBenchServer(options.binary)
  try {
    const quiet = await echoRoundTrips(server.wsUrl, await server.pair(), samples)
    const flood = openPty(server.wsUrl, await server.pair())
    await flood.opened
    flood.ws.send('yes\r')
    await flood.until(/y\r\ny\r\n/)
    const floodBefore = flood.state.received
    const floodStarted = performance.now()
    const flooded = await echoRoundTrips(server.wsUrl, await server.pair(), samples)
    const floodClientMBps = (flood.state.received - floodBefore) / 1e6 / ((performance.now() - floodStarted) / 1000)
    flood.ws.send('\x03')
    flood.ws.close()
    return {
      samples,
      quietP50Ms: percentile(quiet, 50),
      quietP99Ms: percentile(quiet, 99),
      floodP50Ms: percentile(flooded, 50),
      floodP99Ms: percentile(flooded, 99),
      floodMaxMs: Math.max(...flooded),
      floodClientMBps,
    }
  } finally {
    server.stop()
  }
}

if (import.meta.main) console.log(await benchEcho({ binary: process.argv[2] ?? 'dist/cockpit-coder' }))
