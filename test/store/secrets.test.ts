import { describe, expect, it } from 'bun:test'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { keepSecrets, StateError } from '../../src/store'
import { scratchState } from './helpers'

const none = { jwtSecret: null, pairingToken: null }

function stateDirOf(scratch: { stateDir: string }): string {
  mkdirSync(scratch.stateDir, { recursive: true, mode: 0o700 })
  return scratch.stateDir
}

describe('kept secrets', () => {
  it('are made on first start into a 0600 secrets.json, then kept', () => {
    using scratch = scratchState()
    const dir = stateDirOf(scratch)
    const first = keepSecrets(dir, none)
    expect([first.jwtSecretSource, first.pairingTokenSource]).toEqual(['new', 'new'])
    expect(Buffer.byteLength(first.jwtSecret)).toBeGreaterThanOrEqual(32)
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600)
    const second = keepSecrets(dir, none)
    expect([second.jwtSecretSource, second.pairingTokenSource]).toEqual(['kept', 'kept'])
    expect([second.jwtSecret, second.pairingToken]).toEqual([first.jwtSecret, first.pairingToken])
    expect(second.sources).toBe(`JWT_SECRET kept (${join(dir, 'secrets.json')}); PAIRING_TOKEN kept (${join(dir, 'secrets.json')})`)
    expect(second.warnings).toEqual([])
  })

  it('uses a secret that is set as is and never writes it to the file', () => {
    using scratch = scratchState()
    const dir = stateDirOf(scratch)
    const kept = keepSecrets(dir, { jwtSecret: 'x'.repeat(40), pairingToken: null })
    expect([kept.jwtSecretSource, kept.pairingTokenSource]).toEqual(['set', 'new'])
    expect(kept.jwtSecret).toBe('x'.repeat(40))
    expect(readFileSync(join(dir, 'secrets.json'), 'utf8')).not.toContain('x'.repeat(40))
    expect(kept.sources).toBe(`JWT_SECRET set (environment or flag); PAIRING_TOKEN new, kept in ${join(dir, 'secrets.json')}`)
  })

  it('rotates into new ones', () => {
    using scratch = scratchState()
    const dir = stateDirOf(scratch)
    const first = keepSecrets(dir, none)
    const rotated = keepSecrets(dir, none, true)
    expect([rotated.jwtSecretSource, rotated.pairingTokenSource]).toEqual(['new', 'new'])
    expect(rotated.jwtSecret).not.toBe(first.jwtSecret)
    expect(rotated.pairingToken).not.toBe(first.pairingToken)
    expect(keepSecrets(dir, none).jwtSecret).toBe(rotated.jwtSecret)
  })

  it('fixes a secrets file readable by others to 0600 with a warning', () => {
    using scratch = scratchState()
    const dir = stateDirOf(scratch)
    const first = keepSecrets(dir, none)
    chmodSync(join(dir, 'secrets.json'), 0o644)
    const kept = keepSecrets(dir, none)
    expect(kept.jwtSecret).toBe(first.jwtSecret)
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600)
    expect(kept.warnings).toHaveLength(1)
    expect(kept.warnings[0]).toStartWith(`warning: ${join(dir, 'secrets.json')} had mode 644 (readable by others); it is now 0600.`)
  })

  it('refuses a secrets file that is not JSON with one line', () => {
    using scratch = scratchState()
    const dir = stateDirOf(scratch)
    writeFileSync(join(dir, 'secrets.json'), '{not json', { mode: 0o600 })
    expect(() => keepSecrets(dir, none)).toThrow(StateError)
    expect(() => keepSecrets(dir, none)).toThrow(/^STATE_DIR: .*secrets\.json is not valid JSON/)
  })
})
