/**
 * Smoke test of the compiled binary as a user runs it: copied nowhere near node_modules, started
 * from an empty directory, asked for /healthz, the web cockpit, a session round trip and a terminal, stopped with SIGTERM.
 * Usage: bun run scripts/smoke.ts dist/cockpit-coder
 */
import { copyFileSync, mkdtempSync, mkdirSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const binary = resolve(process.argv[2] ?? 'dist/cockpit-coder')
const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-smoke-')))
const bin = join(root, 'bin', 'cockpit-coder')
const cwd = join(root, 'empty')
const repo = join(root, 'repos', 'demo')
mkdirSync(join(root, 'bin'))
mkdirSync(cwd)
mkdirSync(repo, { recursive: true })
copyFileSync(binary, bin)
Bun.spawnSync(['chmod', '+x', bin])
Bun.spawnSync(['git', 'init', '-q', repo])

function check(condition: unknown, what: string): asserts condition {
  if (!condition) {
    console.error(`smoke: FAILED: ${what}`)
    process.exitCode = 1
    throw new Error(what)
  }
  console.log(`smoke: ok: ${what}`)
}

const pairingToken = 'smoke-pairing-token-0123456789'
const server = Bun.spawn([bin, '--port', '0'], {
  cwd,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, REPO_ALLOWLIST: join(root, 'repos'), STATE_DIR: join(root, 'state'), PAIRING_TOKEN: pairingToken },
  stdout: 'pipe',
  stderr: 'inherit',
})

try {
  const reader = server.stdout.getReader()
  let printed = ''
  const deadline = Date.now() + 10_000
  while (!/listening on (http:\S+)/.test(printed) && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    printed += new TextDecoder().decode(value)
  }
  const base = /listening on (http:\S+)/.exec(printed)?.[1]
  check(base, `binary printed its URL (${base})`)
  reader.releaseLock()

  const health = await fetch(`${base}/healthz`)
  const healthBody = (await health.json()) as { ok: boolean; version: string }
  check(health.status === 200 && healthBody.ok === true, `/healthz answers ok (version ${healthBody.version})`)

  // The web cockpit is inside the binary: the page and one of its hashed assets, nothing beside it.
  const page = await fetch(`${base}/`)
  const html = await page.text()
  check(page.status === 200 && page.headers.get('cache-control') === 'no-store' && html.includes('Cockpit Coder'), 'GET / serves the web cockpit, uncached')
  check((page.headers.get('content-security-policy') ?? '').includes("frame-ancestors 'none'"), 'the page carries its Content-Security-Policy')
  const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
  const asset = script ? await fetch(`${base}/${script}`) : null
  check(asset?.status === 200 && (asset.headers.get('cache-control') ?? '').includes('immutable') && (await asset.text()).length > 1000, `GET /${script} serves the page's script, cached for a year`)

  const paired = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${pairingToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: JSON.stringify({ repo, label: 'smoke' }),
  })
  const session = (await paired.json()) as { sessionId: string; token: string }
  check(paired.status === 201 && session.token, 'POST /api/session pairs (form content type, JSON body)')

  const auth = { authorization: `Bearer ${session.token}` }
  const read = await fetch(`${base}/api/session/${session.sessionId}`, { headers: auth })
  check(read.status === 200 && ((await read.json()) as { repo: string }).repo === realpathSync(repo), 'GET /api/session/:id returns the session')

  // A terminal: its PTY lives on a thread whose entry is a file of its own inside the binary.
  const echoed = await new Promise<string>((resolvePty) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/pty?sessionId=${session.sessionId}&token=${session.token}`)
    let seen = ''
    const timer = setTimeout(() => {
      ws.close()
      resolvePty(seen)
    }, 10_000)
    ws.onopen = () => ws.send('echo SMOKE-$((6*7))\r')
    ws.onmessage = (message) => {
      seen += String(message.data)
      if (!seen.includes('SMOKE-42')) return
      clearTimeout(timer)
      ws.close()
      resolvePty(seen)
    }
  })
  check(echoed.includes('SMOKE-42'), '/ws/pty runs a shell on a terminal')

  const deleted = await fetch(`${base}/api/session/${session.sessionId}`, { method: 'DELETE', headers: auth })
  check(deleted.status === 200, 'DELETE /api/session/:id ends it')
  const after = await fetch(`${base}/api/session/${session.sessionId}`, { headers: auth })
  check(after.status === 401, 'the token of an ended session gets 401')

  server.kill('SIGTERM')
  const code = await Promise.race([server.exited, Bun.sleep(5000).then(() => 'timeout')])
  check(code === 0, `SIGTERM stops the binary with exit 0 (got ${code})`)
} finally {
  server.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
}
