import { expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLOSE } from '../../src/ws'

const FLOOD_BYTES = 200_000_000
/** Peak RSS the server may reach while it pushes 200 MB past a client that reads nothing. */
const RSS_BOUND_MB = 300
const fixtures = join(import.meta.dir, 'fixtures')

/** Line-by-line reader of a child's stdout. */
function lines(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  return async () => {
    while (!buffered.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`stream ended; got ${JSON.stringify(buffered)}`)
      buffered += decoder.decode(value, { stream: true })
    }
    const at = buffered.indexOf('\n')
    const line = buffered.slice(0, at)
    buffered = buffered.slice(at + 1)
    return line
  }
}

/** `promise`, or a failure naming what did not happen within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function rssMb(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
  return match ? Number(match[1]) / 1024 : 0
}

/** A reading client that keeps only a count and the last characters (200 MB would not fit in a test string). */
function watchingClient(url: string) {
  const ws = new WebSocket(url)
  const state = { received: 0, tail: '' }
  ws.onmessage = (event) => {
    const text = String(event.data)
    state.received += text.length
    state.tail = (state.tail + text).slice(-4096)
  }
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('watching client failed'))
  })
  const until = async (pattern: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs
    while (!pattern.test(state.tail)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; tail ${JSON.stringify(state.tail.slice(-200))}`)
      await Bun.sleep(20)
    }
  }
  return { ws, state, opened, until }
}

it(
  'keeps server memory bounded and other clients live while one client stops reading during 200 MB of output',
  async () => {
    // The live rate (1 MiB/s per client by default) would keep a frozen client's queue short of
    // lagBytes for the whole flood; this test is about the lag and stuck path behind it, so the
    // rate is lifted here (test/ws/pty-flood.test.ts covers the rate).
    const server = Bun.spawn(['bun', join(fixtures, 'ws-server.ts'), '--no-rate'], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
    const stuck = { proc: undefined as ReturnType<typeof Bun.spawn> | undefined }
    let sampler: ReturnType<typeof setInterval> | undefined
    try {
      const serverLine = lines(server.stdout)
      const info = JSON.parse(await within(serverLine(), 20_000, 'server start')) as { pid: number; ptyUrl: string }
      /** Waits for the server to report this many open sockets of the session. */
      const untilOpenSockets = async (count: number, ms: number) => {
        while ((JSON.parse(await within(serverLine(), ms, `${count} open sockets`)) as { openSockets: number }).openSockets !== count);
      }
      const watcher = watchingClient(info.ptyUrl)
      await within(watcher.opened, 10_000, 'watcher connection')
      await untilOpenSockets(1, 10_000)

      stuck.proc = Bun.spawn(['bun', join(fixtures, 'counting-client.ts'), info.ptyUrl], { stdout: 'pipe', stderr: 'inherit' })
      const stuckLine = lines(stuck.proc.stdout as ReadableStream<Uint8Array>)
      expect(await within(stuckLine(), 10_000, 'frozen client connection')).toBe('open')
      await untilOpenSockets(2, 10_000)
      process.kill(stuck.proc.pid, 'SIGSTOP')

      const baseline = rssMb(info.pid)
      let peak = baseline
      sampler = setInterval(() => (peak = Math.max(peak, rssMb(info.pid))), 25)
      watcher.ws.send(`head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE-$((40+2))\r`)

      // Taking nothing for 10 s, the frozen client is told to close (1013); woken within the
      // 10 s it then gets to read that close frame, it reads its backlog and the close.
      await untilOpenSockets(1, 60_000)
      process.kill(stuck.proc.pid, 'SIGCONT')
      const stuckClose = JSON.parse(await within(stuckLine(), 30_000, 'close of the frozen client')) as { code: number; reason: string; received: number }

      await watcher.until(/FLOOD-DONE-42\r\n/, 90_000)
      clearInterval(sampler)
      watcher.ws.send('echo STILL-$((1+1))-HERE\r')
      await watcher.until(/STILL-2-HERE\r\n/, 10_000)

      console.log(
        `server RSS ${baseline.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak; watcher received ${(watcher.state.received / 1e6).toFixed(1)} MB; ` +
          `frozen client received ${(stuckClose.received / 1e6).toFixed(1)} MB, closed ${stuckClose.code} "${stuckClose.reason}"`,
      )
      expect(peak).toBeLessThan(RSS_BOUND_MB)
      expect(stuckClose.code).toBe(CLOSE.tooSlow)
      expect(stuckClose.reason).toContain('too slow')
      expect(stuckClose.received).toBeLessThan(FLOOD_BYTES / 10)
      watcher.ws.close()
    } finally {
      clearInterval(sampler)
      stuck.proc?.kill('SIGKILL')
      server.stdin.end()
      await within(server.exited, 15_000, 'server exit').catch((error) => {
        server.kill('SIGKILL')
        throw error
      })
    }
  },
  { timeout: 150_000 },
)
