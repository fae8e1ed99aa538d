import { describe, expect, it } from 'bun:test'
import { createServer, type AddressInfo } from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compiledBinary, startBinary } from '../fixtures/binary'

async function runBinary(args: string[], env: Record<string, string> = {}) {
  const bin = await compiledBinary()
  const cwd = mkdtempSync(join(tmpdir(), 'cockpit-empty-'))
  try {
    const started = performance.now()
    const proc = Bun.spawn([bin, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env }, stdout: 'pipe', stderr: 'pipe' })
    const code = await proc.exited
    return { code, ms: performance.now() - started, stdout: await new Response(proc.stdout).text(), stderr: await new Response(proc.stderr).text() }
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

/** Local addresses of the TCP sockets listening on `port`, from /proc/net/tcp{,6}. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A')
      .map((cols) => cols[1]!.split(':')[0]!),
  )
}

describe('the compiled binary', () => {
  it('prints usage for --help when run from an empty directory', async () => {
    const { code, stdout } = await runBinary(['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('Usage: cockpit-coder')
    expect(stdout).toContain('REPO_ALLOWLIST')
  })

  it('exits non-zero at once naming PORT when it is not a number', async () => {
    const { code, ms, stderr } = await runBinary([], { PORT: 'abc' })
    expect(code).not.toBe(0)
    // It stops at start-up instead of serving half-configured; the bound only has to tell that
    // apart from a server that keeps running, with room for a loaded CI machine (start-up time
    // itself is measured in `bun run bench`).
    expect(ms).toBeLessThan(10_000)
    expect(stderr).toContain('PORT')
  })

  it('exits non-zero naming REPO_ALLOWLIST when it is relative', async () => {
    const { code, stderr } = await runBinary([], { REPO_ALLOWLIST: 'relative/path' })
    expect(code).not.toBe(0)
    expect(stderr).toContain('REPO_ALLOWLIST')
  })

  it('refuses a port another cockpit-coder listens on with one line and a non-zero exit', async () => {
    await using server = await startBinary()
    const { code, stderr } = await runBinary(['--port', String(server.port)], { JWT_SECRET: 'e2e-secret-0123456789abcdef0123456789abcdef' })
    expect(code).not.toBe(0)
    expect(stderr.trim().split('\n')).toEqual([`cockpit-coder: port ${server.port} is already in use`])
    // The first one still answers every request.
    for (let i = 0; i < 5; i++) expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200)
  })

  it('refuses a port another program holds with one line, no stack trace', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const { code, stderr } = await runBinary(['--port', String(port)], { JWT_SECRET: 'e2e-secret-0123456789abcdef0123456789abcdef' })
      expect(code).not.toBe(0)
      expect(stderr.trim().split('\n')).toEqual([`cockpit-coder: port ${port} is already in use`])
    } finally {
      holder.close()
    }
  })

  it('serves /swagger and its script from the binary alone, with no CDN', async () => {
    await using server = await startBinary()
    const html = await (await fetch(`${server.baseUrl}/swagger`)).text()
    const src = /<script src="([^"]+)"/.exec(html)?.[1]
    expect(src).toStartWith('/swagger/assets/')
    const script = await fetch(`${server.baseUrl}${src}`)
    expect(script.status).toBe(200)
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
    expect((await fetch(`${server.baseUrl}/swagger/json`)).status).toBe(200)
  })

  it('prints the URL, repos, commands and pairing token in that order', async () => {
    await using server = await startBinary()
    await Bun.sleep(50)
    const lines = server.stdout.split('\n')
    const order = ['listening on', 'Allowed repos', 'Allowed commands', 'Pairing token'].map((label) => lines.findIndex((l) => l.includes(label)))
    expect(order.every((index) => index >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })

  it('prints a pairing QR code for the start directory when stdout is a terminal', async () => {
    await using server = await startBinary()
    const bin = await compiledBinary()
    // script(1) gives the binary a real terminal as stdout, as when a user starts it by hand.
    const proc = Bun.spawn(['script', '-qfc', `${bin} --port 0`, '/dev/null'], {
      cwd: server.repo,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: server.dir, REPO_ALLOWLIST: server.allowed, STATE_DIR: join(server.dir, 'state2'), LOG_LEVEL: 'warn' },
      // script(1) ends when its stdin does, so keep one open.
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const reader = proc.stdout.getReader()
    let out = ''
    const deadline = Date.now() + 10_000
    while (!/Scan with[^\n]*\n([^\n]*\n){10}/.test(out) && Date.now() < deadline) {
      const { value, done } = await reader.read()
      if (done) break
      out += new TextDecoder().decode(value)
    }
    proc.kill('SIGTERM')
    await proc.exited
    expect(out).toContain(`Scan with the Cockpit Coder app to pair with ${server.repo}`)
    expect(out).toMatch(/[▀▄█]{5}/)
  })

  it('prints no QR code when stdout is not a terminal', async () => {
    await using server = await startBinary()
    expect(server.stdout).not.toContain('Scan with')
  })

  it('listens on 127.0.0.1 only by default', async () => {
    await using server = await startBinary()
    expect(listeningAddresses(server.port)).toEqual(['0100007F'])
  })

  it('refuses a rebinding Host and accepts 127.0.0.1 and localhost', async () => {
    await using server = await startBinary()
    const status = async (host: string) => {
      const response = await fetch(`${server.baseUrl}/healthz`, { headers: { host } })
      return response.status
    }
    expect(await status('evil.example')).toBe(403)
    expect(await status(`127.0.0.1:${server.port}`)).toBe(200)
    expect(await status(`localhost:${server.port}`)).toBe(200)
  })

  it('answers a 20 MB body with 413 and keeps serving', async () => {
    await using server = await startBinary()
    const response = await fetch(`${server.baseUrl}/api/session`, {
      method: 'POST',
      headers: { authorization: 'Bearer x' },
      body: JSON.stringify({ repo: 'x'.repeat(20 * 1024 * 1024) }),
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: 'payload_too_large' })
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200)
  })

  it('answers malformed JSON and wrong types with 4xx JSON and keeps serving', async () => {
    await using server = await startBinary()
    const { token } = await server.pair()
    const malformed = await fetch(`${server.baseUrl}/api/session`, { method: 'POST', headers: { authorization: 'Bearer binary-pairing-token-0123456789' }, body: '{"repo"' })
    expect(malformed.status).toBe(400)
    const wrongType = await fetch(`${server.baseUrl}/api/session`, { method: 'POST', headers: { authorization: 'Bearer binary-pairing-token-0123456789' }, body: '{"repo": []}' })
    expect(wrongType.status).toBe(422)
    expect(await wrongType.json()).toMatchObject({ error: 'invalid_request' })
    expect((await fetch(`${server.baseUrl}/healthz`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
  })

  it('reads the branch with isomorphic-git, which the git worker loads from its own entry point in the binary', async () => {
    await using server = await startBinary()
    const { token } = await server.pair()
    const response = await fetch(`${server.baseUrl}/api/git/status`, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    const head = Bun.spawnSync(['git', '-C', server.repo, 'rev-parse', 'HEAD']).stdout.toString().trim()
    expect(await response.json()).toMatchObject({ branch: 'main', head, files: [] })
  })

  it('exits 0 on SIGTERM', async () => {
    await using server = await startBinary()
    server.proc.kill('SIGTERM')
    expect(await Promise.race([server.proc.exited, Bun.sleep(5000).then(() => 'hung')])).toBe(0)
  })
})
