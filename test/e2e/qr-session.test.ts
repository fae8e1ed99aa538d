import { describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { QR_SESSION_LABEL, qrPairingSession } from '../../src/serve'
import { MemorySessionStore } from '../../src/session'
import { openState } from '../../src/store'
import { compiledBinary, startBinary } from '../fixtures/binary'

type Pairing = { sessionId: string; token: string }

/** Starts the binary with a real terminal as stdout (script(1)), reads the pairing it prints, and stops it with SIGTERM. */
async function pairingOnTerminal(cwd: string, env: Record<string, string>): Promise<Pairing> {
  const bin = await compiledBinary()
  const proc = Bun.spawn(['script', '-qfc', `${bin} --port 0`, '/dev/null'], { cwd, env, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  let out = ''
  const deadline = Date.now() + 15_000
  // Up to the end of the line: a read may stop in the middle of the link (CI once parsed half a payload).
  while (!/Open in a browser: \S+#pair=[\w-]+\r?\n/.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    out += decoder.decode(value, { stream: true })
  }
  proc.kill('SIGTERM')
  await proc.exited
  const payload = /Open in a browser: \S+#pair=([\w-]+)\r?\n/.exec(out)?.[1]
  if (!payload) throw new Error(`no pairing printed: ${out}`)
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Pairing
}

describe('the start-up QR session', () => {
  it('is the same session after a restart, not one more per start', async () => {
    await using server = await startBinary()
    const stateDir = join(server.dir, 'qr-state')
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: server.dir, REPO_ALLOWLIST: server.allowed, STATE_DIR: stateDir, LOG_LEVEL: 'warn' }
    const first = await pairingOnTerminal(server.repo, env)
    const second = await pairingOnTerminal(server.repo, env)
    const third = await pairingOnTerminal(server.repo, env)
    expect(second.sessionId).toBe(first.sessionId)
    expect(third.sessionId).toBe(first.sessionId)
    const db = new Database(join(stateDir, 'state.db'), { readonly: true })
    try {
      expect(db.query('SELECT id FROM sessions').all()).toEqual([{ id: first.sessionId }])
    } finally {
      db.close()
    }
  }, 60_000)

  it('makes a new session once less than half of the old one is left, and keeps other sessions out of it', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-qr-')))
    const state = openState(join(dir, 'state'))
    try {
      const ttl = 3600
      const sessions = new MemorySessionStore(ttl, 1000, undefined, state.sessions)
      const paired = sessions.create({ repo: dir, label: 'my phone' })
      const qr = qrPairingSession(sessions, dir, ttl)
      expect(qr.id).not.toBe(paired.id)
      expect(qr.label).toBe(QR_SESSION_LABEL)
      expect(qrPairingSession(sessions, dir, ttl).id).toBe(qr.id)
      expect(qrPairingSession(sessions, join(dir, 'other'), ttl).id).not.toBe(qr.id)
      const later = qr.tokenExpiresAt.getTime() - (ttl * 1000) / 2 + 1000
      const renewed = qrPairingSession(sessions, dir, ttl, later)
      expect(renewed.id).not.toBe(qr.id)
      expect(sessions.list().filter((s) => s.label === QR_SESSION_LABEL && s.repo === dir)).toHaveLength(2)
    } finally {
      state.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
