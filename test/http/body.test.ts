import { describe, expect, it } from 'bun:test'
import { makeTestApp } from '../fixtures/app'

function nested(depth: number): unknown {
  let value: unknown = 'x'
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

describe('request bodies', () => {
  it('refuses a body nested deeper than 64 levels with 400 too_deep', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: nested(20_000) }) })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'too_deep' })
  })

  it('accepts a body nested 60 levels deep', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: 'x', context: { deep: nested(58) } }) })
    expect(response.status).toBe(202)
  })

  it('checks the token before it validates the body, so a stranger cannot make it work', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/tasks', {
      method: 'POST',
      headers: { authorization: 'Bearer garbage' },
      body: JSON.stringify({ instruction: 42, context: 'A'.repeat(500_000) }),
    })
    expect(response.status).toBe(401)
  })

  it('answers a string where the context object belongs with 400 invalid_context, at once', async () => {
    await using t = await makeTestApp()
    const response = await t.request('/api/tasks', { method: 'POST', body: JSON.stringify({ instruction: 'x', context: 'A'.repeat(500_000) }) })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: string; message: string }
    expect(body.error).toBe('invalid_context')
    expect(body.message.length).toBeLessThan(1000)
  })
})
