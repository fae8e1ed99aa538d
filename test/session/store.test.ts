import { describe, expect, it } from 'bun:test'
import { TooManyRequestsError } from '../../src/errors'
import { MemorySessionStore } from '../../src/session'
import { createLogger } from '../../src/logger'

describe('MemorySessionStore', () => {
  it('refuses a session past its bound with a 429 error, not a crash', () => {
    const store = new MemorySessionStore(60, 2)
    store.create({ repo: '/a' })
    store.create({ repo: '/a' })
    expect(() => store.create({ repo: '/a' })).toThrow(TooManyRequestsError)
  })

  it('runs every clean-up when a session ends, with the reason', async () => {
    const store = new MemorySessionStore(60)
    const ended: string[] = []
    store.onEnd((session, reason) => void ended.push(`${session.id}:${reason}`))
    const session = store.create({ repo: '/a' })
    expect(await store.end(session.id, 'deleted')).toBe(true)
    expect(ended).toEqual([`${session.id}:deleted`])
    expect(store.get(session.id)).toBeUndefined()
    expect(await store.end(session.id, 'deleted')).toBe(false)
  })

  it('runs the other clean-ups when one fails, and reports the failure with the session', async () => {
    // The report is the behaviour under test: captured through the logger and checked, not
    // printed as if the run had failed.
    const lines: string[] = []
    const store = new MemorySessionStore(60, undefined, createLogger('info', 'json', (line) => lines.push(line)))
    const ended: string[] = []
    store.onEnd(() => {
      throw new Error('this clean-up fails on purpose')
    })
    store.onEnd((session) => void ended.push(session.id))
    const session = store.create({ repo: '/a' })
    expect(await store.end(session.id, 'deleted')).toBe(true)
    expect(ended).toEqual([session.id])
    expect(lines).toHaveLength(1)
    const report = JSON.parse(lines[0]!)
    expect(report.level).toBe('error')
    expect(report.sessionId).toBe(session.id)
    expect(String(report.error)).toContain('this clean-up fails on purpose')
  })

  it('sweeps expired sessions and ends them as expired', async () => {
    const store = new MemorySessionStore(60)
    const reasons: string[] = []
    store.onEnd((_, reason) => void reasons.push(reason))
    const session = store.create({ repo: '/a' })
    expect(await store.sweep(new Date(Date.now() + 30_000))).toBe(0)
    expect(await store.sweep(new Date(session.tokenExpiresAt.getTime() + 1))).toBe(1)
    expect(reasons).toEqual(['expired'])
  })

  it('extends a session on activity but never past its token exp', () => {
    const store = new MemorySessionStore(60)
    const session = store.create({ repo: '/a' })
    store.touch(session.id)
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(session.tokenExpiresAt.getTime())
  })
})
