/**
 * A `POST /api/cmd?wait=true` in flight when the server is told to stop: the command is killed,
 * the waiting client gets its answer, and the binary exits 0 instead of hanging on the request.
 */
import { describe, expect, it } from 'bun:test'
import { startBinary } from '../fixtures/binary'

describe('the compiled binary, signalled while a client waits on ?wait=true', () => {
  it('answers the waiting client with the killed command and exits 0 within 5 s', async () => {
    await using server = await startBinary({ env: { CMD_ALLOWLIST: 'sleep 60' } })
    const { token } = await server.pair()
    const waiting = fetch(`${server.baseUrl}/api/cmd?wait=true`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ cmd: 'sleep 60' }) })
      .then(async (response) => ({ status: response.status, body: (await response.json()) as { status: string } }))
      .catch((error: Error) => ({ status: 0, body: { status: error.message } }))
    await Bun.sleep(500)
    const started = performance.now()
    server.proc.kill('SIGTERM')
    const code = await Promise.race([server.proc.exited, Bun.sleep(5000).then(() => null)])
    expect(code).toBe(0)
    expect(performance.now() - started).toBeLessThan(5000)
    expect(await waiting).toEqual({ status: 200, body: expect.objectContaining({ status: 'killed' }) })
  }, 30_000)
})
