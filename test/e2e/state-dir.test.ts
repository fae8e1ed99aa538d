/**
 * Start-up against STATE_DIR, through the compiled binary: one server per STATE_DIR (a second
 * one names the first one's pid; a SIGKILLed one leaves no stale lock), a database from a newer
 * schema, a STATE_DIR that cannot be written, a secrets file readable by others, and
 * --rotate-secrets. Each refusal is one line on stderr and exit code 2.
 */
import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { chmodSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCHEMA_VERSION } from '../../src/store'
import { launch, makeServerHome, runToExit } from '../fixtures/binary'

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '')

describe('STATE_DIR at start-up', () => {
  it('refuses a second server on the same STATE_DIR naming the first one’s pid, and starts once the first was SIGKILLed', async () => {
    await using home = await makeServerHome()
    const first = await launch(home)
    const second = await runToExit(home)
    expect(second.code).toBe(2)
    expect(lines(second.stderr)).toEqual([`cockpit-coder: STATE_DIR: ${home.stateDir} is in use by another Cockpit Coder server (pid ${first.pid}); stop it or use another STATE_DIR.`])
    await first.stop('SIGKILL')
    const third = await launch(home)
    expect((await fetch(`${third.baseUrl}/healthz`)).status).toBe(200)
  }, 60_000)

  it('refuses a database from a newer schema with one line naming both versions', async () => {
    await using home = await makeServerHome()
    await (await launch(home)).stop('SIGTERM')
    const db = new Database(join(home.stateDir, 'state.db'))
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const run = await runToExit(home)
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toContain(`has schema version ${SCHEMA_VERSION + 1}, newer than this server's ${SCHEMA_VERSION}`)
  }, 60_000)

  it('stops with one line when STATE_DIR cannot be written', async () => {
    await using home = await makeServerHome()
    writeFileSync(join(home.dir, 'a-file'), 'not a directory\n')
    const stateDir = join(home.dir, 'a-file', 'state')
    const run = await runToExit(home, { STATE_DIR: stateDir })
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toEqual([`cockpit-coder: STATE_DIR: ${stateDir} is not writable (ENOTDIR); set STATE_DIR to a directory this server can write.`])
  }, 60_000)

  it('makes STATE_DIR 0700 and fixes a secrets file readable by others to 0600, saying so', async () => {
    await using home = await makeServerHome()
    const first = await launch(home)
    await first.stop('SIGTERM')
    expect(statSync(home.stateDir).mode & 0o777).toBe(0o700)
    const secrets = join(home.stateDir, 'secrets.json')
    expect(statSync(secrets).mode & 0o777).toBe(0o600)
    chmodSync(secrets, 0o644)
    const second = await launch(home)
    expect(second.stderr).toContain(`warning: ${secrets} had mode 644 (readable by others); it is now 0600.`)
    expect(statSync(secrets).mode & 0o777).toBe(0o600)
    expect(second.pairingToken).toBe(first.pairingToken)
  }, 60_000)

  it('--rotate-secrets makes new secrets and ends every session', async () => {
    await using home = await makeServerHome()
    const first = await launch(home)
    const { sessionId, token } = await first.pair()
    await first.stop('SIGTERM')
    const rotated = await launch(home, {}, ['--rotate-secrets'])
    expect(rotated.stdout).toContain('JWT_SECRET new, kept in')
    expect(rotated.stdout).toContain('--rotate-secrets ended 1 session(s)')
    expect(rotated.pairingToken).not.toBe(first.pairingToken)
    expect((await rotated.api(token, `/api/session/${sessionId}`)).status).toBe(401)
    const { token: fresh } = await rotated.pair()
    expect((await rotated.api(fresh, '/api/tasks')).status).toBe(200)
  }, 60_000)
})
