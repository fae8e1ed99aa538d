import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CommandRunner, type CommandRunnerOptions } from '../../src/cmdexec'
import { EventHub } from '../../src/events'
import type { Session } from '../../src/session'

export function fakeSession(repo: string, id = crypto.randomUUID()): Session {
  const later = new Date(Date.now() + 3_600_000)
  return { id, repo, label: null, via: 'direct', createdAt: new Date(), tokenExpiresAt: later, expiresAt: later }
}

/**
 * A runner over a temp repo (a plain directory: commands do not care about git) with one session.
 * Disposing stops every command and removes the directory.
 */
export function makeRunner(options: Partial<CommandRunnerOptions> = {}) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-cmd-')))
  const repo = join(root, 'repo')
  Bun.spawnSync(['mkdir', '-p', repo])
  const events = new EventHub('test-epoch')
  const runner = new CommandRunner({
    allowlist: ['echo hello *'],
    events,
    maxTimeoutMs: 30_000,
    outputLimitBytes: 64 * 1024,
    concurrencyPerSession: 4,
    parentEnv: process.env,
    ...options,
  })
  const session = fakeSession(repo)
  return {
    root,
    repo,
    events,
    runner,
    session,
    async [Symbol.asyncDispose]() {
      await runner.shutdown()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

export type ProcessRow = { pid: number; pgid: number; stat: string; args: string }

/** The process table as `ps` reports it: an independent view of what is still running. */
export function processTable(): ProcessRow[] {
  const result = Bun.spawnSync(['ps', '-eo', 'pid=,pgid=,stat=,args='])
  return result.stdout
    .toString()
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), pgid: Number(match[2]), stat: match[3]!, args: match[4]! }))
}

/**
 * Live processes whose command line is exactly `args`. Zombies (stat Z) are dead already and only
 * wait for init to reap them; this sandbox's PID 1 reaps orphans about a second late.
 */
export function liveProcesses(args: string): ProcessRow[] {
  return processTable().filter((row) => row.args === args && !row.stat.startsWith('Z'))
}

/** Waits (sleeping, not spinning) until `check` holds or `timeoutMs` passes; returns the last result. */
export async function eventually<T>(check: () => T, done: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = check()
  while (!done(value) && Date.now() < deadline) {
    await Bun.sleep(50)
    value = check()
  }
  return value
}

export function caught(fn: () => unknown): { status?: number; kind?: string; message?: string } {
  try {
    fn()
  } catch (error) {
    const e = error as { status?: number; kind?: string; message?: string }
    return { status: e.status, kind: e.kind, message: e.message }
  }
  throw new Error('expected a throw')
}
