/**
 * Preloaded into a server the benchmark runs from source (`bun --preload`): records how late the
 * event loop's timers fire (perf_hooks' histogram, 5 ms resolution). SIGUSR1 starts a fresh
 * window; SIGUSR2 writes {maxMs, p99Ms} of the window to $LOOP_MONITOR_FILE.
 */
import { writeFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.LOOP_MONITOR_FILE
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 })
  histogram.enable()
  process.on('SIGUSR1', () => histogram.reset())
  process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify({ maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 })))
}
