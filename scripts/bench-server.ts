/**
 * Starts the compiled binary for a benchmark, on a temp repo, at its default settings (request
 * logs on, written to a file as a terminal would take them), and measures start-to-healthy.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type BenchServer = {
  /** The temp dir: repos/ (REPO_ALLOWLIST), state/ (STATE_DIR), server.log (its stderr). */
  root: string
  baseUrl: string
  wsUrl: string
  repo: string
  pid: number
  startMs: number
  pair(repo?: string): Promise<{ sessionId: string; token: string }>
  rssKiB(): number
  /** SIGKILLs the server and removes its temp dir; `exited` settles once the process is gone. */
  stop(): void
  exited: Promise<unknown>
  /** Sends a signal to the server process (the loop monitor listens to SIGUSR1/SIGUSR2). */
  signal(signal: NodeJS.Signals): void
}

const PAIRING = 'bench-pairing-token-0123456789'

export function rssKiBOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
}

/**
 * The URL a server prints as `listening on <url>` on stdout, read up to the end of that line: a
 * read may stop in the middle of the URL. `reader` is left open, so the caller can keep draining it.
 */
export async function readListeningUrl(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, what: string): Promise<string> {
  const decoder = new TextDecoder()
  let out = ''
  for (;;) {
    const url = /listening on (\S+)\r?\n/.exec(out)?.[1]
    if (url) return url
    const { value, done } = await reader.read()
    if (done) throw new Error(`${what} did not start: ${out}`)
    out += decoder.decode(value, { stream: true })
  }
}

/** Polls `url`/healthz every `pauseMs` until it answers 200. */
export async function untilHealthy(url: string, pauseMs = 1): Promise<void> {
  while ((await fetch(`${url}/healthz`).catch(() => null))?.status !== 200) await Bun.sleep(pauseMs)
}

/** `binary` is the compiled executable, or an argv that runs the server (e.g. from source with a preload). */
export async function startBenchServer(binary: string | string[], env: Record<string, string> = {}): Promise<BenchServer> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-bench-')))
  const repo = join(root, 'repos', 'demo')
  mkdirSync(repo, { recursive: true })
  Bun.spawnSync(['git', 'init', '-q', repo])
  const started = performance.now()
  const proc = Bun.spawn([...(typeof binary === 'string' ? [binary] : binary), '--port', '0'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      SHELL: '/bin/bash',
      REPO_ALLOWLIST: join(root, 'repos'),
      STATE_DIR: join(root, 'state'),
      PAIRING_TOKEN: PAIRING,
      JWT_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
      ...env,
    },
    stdout: 'pipe',
    stderr: Bun.file(join(root, 'server.log')),
  })
  const reader = proc.stdout.getReader()
  const baseUrl = await readListeningUrl(reader, 'binary')
  await untilHealthy(baseUrl)
  const startMs = performance.now() - started
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) {}
  })()
  return {
    root,
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    repo,
    pid: proc.pid,
    startMs,
    async pair(sessionRepo = repo) {
      const response = await fetch(`${baseUrl}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${PAIRING}` }, body: JSON.stringify({ repo: sessionRepo }) })
      if (response.status !== 201) throw new Error(`pairing failed: ${response.status}`)
      return (await response.json()) as { sessionId: string; token: string }
    },
    rssKiB: () => rssKiBOf(proc.pid),
    exited: proc.exited,
    signal: (signal) => proc.kill(signal),
    stop() {
      proc.kill('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    },
  }
}
