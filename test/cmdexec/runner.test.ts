import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CommandRunner } from '../../src/cmdexec'
import { EventHub } from '../../src/events'
import { caught, makeRunner } from './helpers'

const DEFAULTS = ['npm test', 'go test', 'npm run build', 'pytest']

describe('CommandRunner.start: what runs', () => {
  it('runs an allowlisted command and reports its output and exit code', async () => {
    await using t = makeRunner()
    const started = t.runner.start(t.session, { cmd: 'echo hello world' })
    expect(started).toMatchObject({ status: 'running', code: null, ok: false, timedOut: false })
    const done = await t.runner.wait(t.session.id, started.cmdId)
    expect(done).toMatchObject({ ok: true, status: 'exited', code: 0, output: 'hello world\n', timedOut: false, truncated: false })
    expect(done.durationMs).toBeGreaterThanOrEqual(0)
    expect(t.runner.get(t.session.id, started.cmdId)).toEqual(done)
  })

  it('reports a non-zero exit with ok false and stderr in the output', async () => {
    await using t = makeRunner({ allowlist: ['ls /definitely-not-here'] })
    const { cmdId } = t.runner.start(t.session, { cmd: 'ls /definitely-not-here' })
    const done = await t.runner.wait(t.session.id, cmdId)
    expect(done.ok).toBe(false)
    expect(done.status).toBe('exited')
    expect(done.code).toBe(2)
    expect(done.output).toContain('definitely-not-here')
  })

  it('runs "echo hello ; touch pwned" as echo with plain arguments and creates no file', async () => {
    await using t = makeRunner({ allowlist: ['echo hello *'] })
    mkdirSync(join(t.repo, 'sub'))
    for (const cwd of [undefined, 'sub']) {
      const { cmdId } = t.runner.start(t.session, { cmd: 'echo hello ; touch pwned', cwd })
      expect((await t.runner.wait(t.session.id, cmdId)).output).toBe('hello ; touch pwned\n')
    }
    expect(existsSync(join(t.repo, 'pwned'))).toBe(false)
    expect(existsSync(join(t.repo, 'sub', 'pwned'))).toBe(false)
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false)
  })

  it('prints shell syntax literally: $(), backticks, variables, globs and redirections are not expanded', async () => {
    await using t = makeRunner({ allowlist: ['echo hello *'] })
    const { cmdId } = t.runner.start(t.session, { cmd: 'echo hello $(id) `id` $HOME * > out.txt' })
    expect((await t.runner.wait(t.session.id, cmdId)).output).toBe('hello $(id) `id` $HOME * > out.txt\n')
    expect(existsSync(join(t.repo, 'out.txt'))).toBe(false)
  })

  it('runs the child as the leader of its own process group', async () => {
    await using t = makeRunner({ allowlist: ["sh -c 'echo $$ $(ps -o pgid= -p $$)'"] })
    const { cmdId } = t.runner.start(t.session, { cmd: "sh -c 'echo $$ $(ps -o pgid= -p $$)'" })
    const [pid, pgid] = (await t.runner.wait(t.session.id, cmdId)).output.trim().split(/\s+/)
    expect(Number(pid)).toBeGreaterThan(1)
    expect(pgid).toBe(pid)
  })
})

describe('CommandRunner.start: what is refused', () => {
  // Our issue's list: none of these may start a process.
  const refusals: [string, number, string][] = [
    ['npm test; id', 403, 'command_not_allowed'],
    ['npm test --script-shell=/tmp/x', 403, 'command_not_allowed'],
    ['npm test --prefix /x', 403, 'command_not_allowed'],
    ['./npm test', 403, 'command_not_allowed'],
    ['NPM test', 403, 'command_not_allowed'],
    ['npm test\\nid', 403, 'command_not_allowed'],
    ['npm test\nid', 400, 'invalid_command'],
    ['rm -rf /', 403, 'command_not_allowed'],
    ['', 400, 'invalid_command'],
    ["npm 'test", 400, 'invalid_command'],
  ]
  for (const [cmd, status, kind] of refusals) {
    it(`refuses ${JSON.stringify(cmd)} with ${status} ${kind}`, async () => {
      await using t = makeRunner({ allowlist: DEFAULTS })
      expect(caught(() => t.runner.start(t.session, { cmd }))).toMatchObject({ status, kind })
      expect(t.runner.runningCount).toBe(0)
    })
  }

  it('refuses "echo hello; touch pwned" under "echo hello *" because "hello;" is not "hello"', async () => {
    await using t = makeRunner({ allowlist: ['echo hello *'] })
    expect(caught(() => t.runner.start(t.session, { cmd: 'echo hello; touch pwned' }))).toMatchObject({ status: 403, kind: 'command_not_allowed' })
    expect(existsSync(join(t.repo, 'pwned'))).toBe(false)
  })

  it('lists what is allowed in the refusal', async () => {
    await using t = makeRunner({ allowlist: DEFAULTS })
    const { message } = caught(() => t.runner.start(t.session, { cmd: 'rm -rf /' }))
    expect(message).toContain('"rm -rf /" is not on the command allowlist')
    expect(message).toContain('npm test, go test, npm run build, pytest')
  })

  it('refuses a non-string cmd and a bad timeout with 400', async () => {
    await using t = makeRunner()
    expect(caught(() => t.runner.start(t.session, { cmd: 42 as unknown as string }))).toMatchObject({ status: 400, kind: 'invalid_command' })
    for (const timeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
      expect(caught(() => t.runner.start(t.session, { cmd: 'echo hello', timeoutMs }))).toMatchObject({ status: 400, kind: 'invalid_timeout' })
    }
  })

  it('refuses at construction an allowlist entry that names a program by path or allows everything', () => {
    const events = new EventHub('e')
    const base = { events, maxTimeoutMs: 1000, outputLimitBytes: 1024, concurrencyPerSession: 1 }
    expect(() => new CommandRunner({ ...base, parentEnv: process.env, allowlist: ['./npm test'] })).toThrow(/without a path/)
    expect(() => new CommandRunner({ ...base, parentEnv: process.env, allowlist: ['/usr/bin/env'] })).toThrow(/without a path/)
    expect(() => new CommandRunner({ ...base, parentEnv: process.env, allowlist: ['*'] })).toThrow(/names no program/)
  })
})

describe('CommandRunner.start: the program comes from the server PATH only', () => {
  function plant(path: string, marker: string): void {
    writeFileSync(path, `#!/bin/sh\ntouch ${marker}\necho planted\n`)
    chmodSync(path, 0o755)
  }

  it('never runs a program planted in the repo, even with ".", "bin" or an empty entry on PATH', async () => {
    const marker = join('/tmp', `cockpit-planted-${crypto.randomUUID()}`)
    await using t = makeRunner({ allowlist: ['mytool', 'npm test'], parentEnv: { PATH: `.:bin::${'/usr/bin'}:/bin` } })
    mkdirSync(join(t.repo, 'bin'))
    plant(join(t.repo, 'mytool'), marker)
    plant(join(t.repo, 'bin', 'mytool'), marker)
    plant(join(t.repo, 'npm'), marker)
    expect(caught(() => t.runner.start(t.session, { cmd: 'mytool' }))).toMatchObject({ status: 400, kind: 'program_not_found' })
    expect(caught(() => t.runner.start(t.session, { cmd: './npm test' }))).toMatchObject({ status: 403, kind: 'command_not_allowed' })
    expect(caught(() => t.runner.start(t.session, { cmd: 'bin/mytool' }))).toMatchObject({ status: 403, kind: 'command_not_allowed' })
    expect(existsSync(marker)).toBe(false)
  })

  it('runs the PATH program of that name, not the planted one', async () => {
    const marker = join('/tmp', `cockpit-planted-${crypto.randomUUID()}`)
    await using t = makeRunner({ allowlist: ['mytool'] })
    const onPath = join(t.root, 'path-bin')
    mkdirSync(onPath)
    writeFileSync(join(onPath, 'mytool'), '#!/bin/sh\necho from-path\n')
    chmodSync(join(onPath, 'mytool'), 0o755)
    plant(join(t.repo, 'mytool'), marker)
    const runner = new CommandRunner({ ...runnerOptions(t), allowlist: ['mytool'], parentEnv: { PATH: `.:${onPath}:/usr/bin:/bin` } })
    const { cmdId } = runner.start(t.session, { cmd: 'mytool' })
    expect((await runner.wait(t.session.id, cmdId)).output).toBe('from-path\n')
    expect(existsSync(marker)).toBe(false)
    await runner.shutdown()
  })
})

function runnerOptions(t: ReturnType<typeof makeRunner>) {
  return { events: t.events, maxTimeoutMs: 10_000, outputLimitBytes: 4096, concurrencyPerSession: 2 }
}

describe('CommandRunner.start: the child environment', () => {
  const saved = { JWT_SECRET: process.env.JWT_SECRET, PAIRING_TOKEN: process.env.PAIRING_TOKEN, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY }
  beforeEach(() => {
    process.env.JWT_SECRET = 'server-secret-value-0123456789abcdef'
    process.env.PAIRING_TOKEN = 'server-pairing-token-value'
    process.env.AWS_SECRET_ACCESS_KEY = 'aws-secret-value'
  })
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })

  it("never carries the server's secrets and has no way for a caller to add variables", async () => {
    await using t = makeRunner({ allowlist: ['env'] })
    const request = { cmd: 'env', env: { INJECTED: 'yes' } } as { cmd: string }
    const { cmdId } = t.runner.start(t.session, request)
    const output = (await t.runner.wait(t.session.id, cmdId)).output
    expect(output).toMatch(/^PATH=/m)
    for (const leaked of ['JWT_SECRET', 'PAIRING_TOKEN', 'AWS_SECRET', 'server-secret-value', 'server-pairing-token', 'INJECTED']) {
      expect(output).not.toContain(leaked)
    }
  })
})

describe('CommandRunner.start: cwd', () => {
  it('runs in a repo subdirectory given relative or absolute', async () => {
    await using t = makeRunner({ allowlist: ['pwd'] })
    mkdirSync(join(t.repo, 'pkg', 'a'), { recursive: true })
    for (const cwd of ['pkg/a', join(t.repo, 'pkg', 'a'), './pkg/../pkg/a']) {
      const { cmdId } = t.runner.start(t.session, { cmd: 'pwd', cwd })
      expect((await t.runner.wait(t.session.id, cmdId)).output).toBe(join(t.repo, 'pkg', 'a') + '\n')
    }
    const { cmdId } = t.runner.start(t.session, { cmd: 'pwd' })
    expect((await t.runner.wait(t.session.id, cmdId)).output).toBe(t.repo + '\n')
  })

  it('refuses a cwd outside the repo with 403: absolute, "..", and a symlink that leaves', async () => {
    await using t = makeRunner({ allowlist: ['pwd'] })
    mkdirSync(join(t.root, 'outside'))
    symlinkSync(join(t.root, 'outside'), join(t.repo, 'escape'))
    for (const cwd of ['/tmp', '/', t.root, '..', '../outside', 'escape', 'escape/', join(t.repo, 'escape')]) {
      expect(caught(() => t.runner.start(t.session, { cmd: 'pwd', cwd }))).toMatchObject({ status: 403, kind: 'path_not_allowed' })
    }
    expect(t.runner.runningCount).toBe(0)
  })

  it('refuses a cwd that is missing or a file with 400', async () => {
    await using t = makeRunner({ allowlist: ['pwd'] })
    writeFileSync(join(t.repo, 'file.txt'), 'x')
    for (const cwd of ['missing', 'file.txt', join(t.repo, 'missing', 'deeper')]) {
      expect(caught(() => t.runner.start(t.session, { cmd: 'pwd', cwd }))).toMatchObject({ status: 400, kind: 'invalid_cwd' })
    }
  })
})

describe('CommandRunner: ownership', () => {
  it('answers 404 for an unknown id and for another session\'s command', async () => {
    await using t = makeRunner()
    const { cmdId } = t.runner.start(t.session, { cmd: 'echo hello' })
    await t.runner.wait(t.session.id, cmdId)
    expect(caught(() => t.runner.get('other-session', cmdId))).toMatchObject({ status: 404, kind: 'command_not_found' })
    expect(caught(() => t.runner.get(t.session.id, 'nope'))).toMatchObject({ status: 404, kind: 'command_not_found' })
    expect(() => t.runner.wait('other-session', cmdId)).toThrow(/No command/)
    expect(() => t.runner.cancel('other-session', cmdId)).toThrow(/No command/)
  })

  it('forgets the oldest finished commands beyond maxKeptPerSession', async () => {
    await using t = makeRunner({ maxKeptPerSession: 2 })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      const { cmdId } = t.runner.start(t.session, { cmd: `echo hello ${i}` })
      await t.runner.wait(t.session.id, cmdId)
      ids.push(cmdId)
    }
    await Bun.sleep(0) // the forgetting runs just after `done` resolves
    expect(caught(() => t.runner.get(t.session.id, ids[0]!))).toMatchObject({ status: 404 })
    expect(caught(() => t.runner.get(t.session.id, ids[1]!))).toMatchObject({ status: 404 })
    expect(t.runner.get(t.session.id, ids[3]!).output).toBe('hello 3\n')
  })
})
