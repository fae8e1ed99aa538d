import { describe, expect, it } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'
import { BINARY_PAIRING_TOKEN, startBinary } from '../fixtures/binary'

describe('the typed Eden client against the compiled binary', () => {
  it('pairs, reads the session and ends it', async () => {
    await using server = await startBinary()
    const client = treaty<App>(server.baseUrl)

    const health = await client.healthz.get()
    expect(health.data?.ok).toBe(true)

    const paired = await client.api.session.post({ repo: server.repo, label: 'eden' }, { headers: { authorization: `Bearer ${BINARY_PAIRING_TOKEN}` } })
    expect(paired.status).toBe(201)
    const connection = paired.data!
    const headers = { authorization: `Bearer ${connection.token}` }

    const session = await client.api.session({ id: connection.sessionId }).get({ headers })
    expect(session.data?.label).toBe('eden')
    expect(session.data?.repo).toBe(server.repo)

    const ended = await client.api.session({ id: connection.sessionId }).delete(undefined, { headers })
    expect(ended.data?.ok).toBe(true)
    const after = await client.api.session({ id: connection.sessionId }).get({ headers })
    expect(after.status).toBe(401)
    expect(after.error?.value).toMatchObject({ error: 'unauthorized' })
  })
})
