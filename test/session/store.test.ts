import { describe, expect, it, spyOn } from 'bun:test'
import { TooManyRequestsError } from '../../src/errors'
import { MemorySessionStore } from '../../src/session'

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
    const store = new MemorySessionStore(60)
    const ended: string[] = []
    store.onEnd(() => {
      throw new Error('this clean-up fails on purpose')
    })
    store.onEnd((session) => void ended.push(session.id))
    // The report is the behaviour under test: captured and checked, not printed as if the run had failed.
    const reported = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const session = store.create({ repo: '/a' })
      expect(await store.end(session.id, 'deleted')).toBe(true)
      expect(ended).toEqual([session.id])
      expect(reported).toHaveBeenCalledTimes(1)
      const [message, reason] = reported.mock.calls[0]!
      expect(String(message)).toContain(session.id)
      expect(String(reason)).toContain('this clean-up fails on purpose')
    } finally {
      reported.mockRestore()
    }
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
