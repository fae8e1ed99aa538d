/**
 * The server mode of the executable (main.ts picks it): parse config, open STATE_DIR, build the
 * app, listen, print pairing, shut down on a signal.
 */
import { existsSync, writeSync } from 'node:fs'
import type * as Tty from 'node:tty'
import { createApp } from './app'
import { sessionJwtOutsideRequests, signSessionToken } from './auth/issue'
import { ConfigError, loadProcessConfig, usage, type Config } from './config'
import { createLogger } from './logger'
import { importLazy } from './lazy-packages'
import { isInside } from './policy/paths'
import { enableChildSubreaper, endMarkedProcesses } from './procs'
import { warmTerminalThread } from './pty'
import { connectionInfo } from './routes/connection'
import { browserPairingUrl } from './routes/web'
import { createServices, type Services } from './services'
import type { Session, SessionStore } from './session'
import { keepSecrets, openState, StateError, type State } from './store'
import { VERSION } from './version'

/**
 * What start-up prints goes straight to the file descriptor: process.stdout and process.stderr
 * are Node streams made on first use, and making the first one (node:stream's internals) was
 * part of every start's path to the listening line. Whatever the descriptor does not take at
 * once (EAGAIN from a full non-blocking pipe, a closed one) goes through the stream as before.
 */
function print(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text)
  let written = 0
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written)
  } catch {
    ;(fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(written))
  }
}

function fail(message: string): never {
  print(2, `cockpit-coder: ${message}\n`)
  process.exit(2)
}

function readConfig(): Config {
  try {
    const { config, help, version } = loadProcessConfig(process.argv.slice(2))
    if (help) {
      print(1, usage(VERSION) + '\n')
      process.exit(0)
    }
    if (version) {
      print(1, `cockpit-coder ${VERSION}\n`)
      process.exit(0)
    }
    return config!
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }
}

function warnings(config: Config): string[] {
  const lines: string[] = []
  if (config.devMode) {
    lines.push('WARNING: DEV_MODE is on: "Bearer DEV" pairs a session and weak secrets are accepted. Never use it on a shared network.')
  }
  if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
    lines.push(`warning: listening on ${config.host}: anyone who can reach this address and has a token gets a shell. Prefer a tunnel with PUBLIC_URL.`)
  }
  return lines
}

export const QR_SESSION_LABEL = 'QR pairing'

/**
 * The session the start-up QR code carries. Sessions outlive restarts, so a fresh one per start
 * would pile up in state.db with every restart (an upgrade, a laptop lid, a crash loop): the one
 * an earlier start made for this directory is shown again while at least half its lifetime is
 * left (a phone that scans it gets a token for a useful while); past that, a new one is made and
 * the old one expires on its own, so at most two exist per directory.
 */
export function qrPairingSession(sessions: SessionStore, repo: string, ttlSeconds: number, now = Date.now()): Session {
  let newest: Session | undefined
  for (const session of sessions.list()) {
    if (session.label !== QR_SESSION_LABEL || session.repo !== repo || session.expiresAt.getTime() <= now) continue
    if (session.tokenExpiresAt.getTime() - now < (ttlSeconds * 1000) / 2) continue
    if (!newest || session.createdAt > newest.createdAt) newest = session
  }
  return newest ?? sessions.create({ repo, label: QR_SESSION_LABEL })
}

async function printPairing(services: Services, baseUrl: string, secretsLine: string): Promise<void> {
  const { config, sessions } = services
  const out = (line = '') => print(1, line + '\n')
  out(`Cockpit Coder ${VERSION} listening on ${baseUrl}`)
  out(`Allowed repos:    ${config.repoAllowlist.join(', ')}`)
  out(`Allowed commands: ${config.cmdAllowlist.length > 0 ? config.cmdAllowlist.join(', ') : '(none)'}`)
  out(`Secrets:          ${secretsLine}`)
  out(`Pairing token:    ${config.pairingToken}${config.devMode ? '   (DEV_MODE: "DEV" works too)' : ''}`)
  const cwd = process.cwd()
  // node:tty last and loaded here: importing it costs about 8 ms of every start (test/architecture).
  const stdoutIsTerminal = () => (require('node:tty') as typeof Tty).isatty(1)
  if (!config.repoAllowlist.some((root) => isInside(root, cwd)) || !existsSync(cwd) || !stdoutIsTerminal()) return
  // The QR code carries a session on the current directory: scanning it is pairing.
  const session = qrPairingSession(sessions, cwd, config.sessionTtlSeconds)
  const token = await signSessionToken(sessionJwtOutsideRequests(config.jwtSecret), session)
  const info = connectionInfo(session, token, config.publicUrl, null, baseUrl)
  out()
  out(`Scan with the Cockpit Coder app to pair with ${cwd}:`)
  // Loaded here, not at start-up: only a terminal that shows the code needs it.
  const { default: QRCode } = await importLazy('qrcode')
  out(await QRCode.toString(JSON.stringify(info), { type: 'terminal', small: true }))
  out(`Open in a browser: ${browserPairingUrl(baseUrl, info)}`)
}

export async function serve(): Promise<void> {
  const given = readConfig()
  for (const line of warnings(given)) print(2, line + '\n')
  let services: Services
  let config: Config
  let secretsLine: string
  try {
    // STATE_DIR first: it holds the lock that keeps a second server out, and the kept secrets.
    const logger = createLogger(given.logLevel, given.logFormat)
    const state: State = openState(given.stateDir, { onWriteError: (error) => logger.error('state.db write failed', { error: String(error) }) })
    const secrets = keepSecrets(
      given.stateDir,
      { jwtSecret: given.jwtSecretGenerated ? null : given.jwtSecret, pairingToken: given.pairingTokenGenerated ? null : given.pairingToken },
      given.rotateSecrets,
    )
    secretsLine = secrets.sources
    for (const line of secrets.warnings) print(2, line + '\n')
    config = Object.freeze({ ...given, jwtSecret: secrets.jwtSecret, pairingToken: secrets.pairingToken })
    services = createServices(config, { state, logger })
    if (given.rotateSecrets) {
      // Tokens signed with the old secret no longer verify: end their sessions (and workspaces) now.
      const count = services.sessions.list().length
      await services.sessions.endAll('deleted')
      secretsLine += `; --rotate-secrets ended ${count} session(s)`
    }
  } catch (error) {
    // Settings that only a layer can judge (an unusable CMD_ALLOWLIST entry, say) stop start-up the same way.
    fail(error instanceof StateError || error instanceof Error ? error.message : String(error))
  }
  const app = createApp(services)
  // Before any child starts: an orphan is re-parented to its nearest subreaper as it is orphaned.
  const subreaper = enableChildSubreaper()
  if (!subreaper.enabled) services.logger.warn('processes that detach with setsid will outlive their session', { reason: subreaper.reason })
  await services.recovered

  // Handlers go in before listening, so a signal at any moment after start-up shuts down cleanly.
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    services.logger.info('shutting down', { signal })
    const forced = setTimeout(() => {
      process.stderr.write('cockpit-coder: shutdown took too long; exiting\n')
      process.exit(1)
    }, 8000)
    forced.unref()
    // Close frames first: Bun's stop() waits for open WebSockets, which would hold shutdown up.
    services.sockets.closeAll()
    // Stop accepting now; a request still in flight (a ?wait=true command) ends once its
    // process is killed, so it gets its answer before the remaining connections are cut.
    const draining = app.server?.stop(false)
    await services.shutdown()
    // Every session's clean-up has run; this catches what one of them could not end.
    const left = await endMarkedProcesses({ allSessions: true })
    if (left.found > 0) services.logger.warn('ended processes left by ended sessions', { ...left })
    await Promise.race([draining, Bun.sleep(2000)])
    await app.server?.stop(true)
    clearTimeout(forced)
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  try {
    // reusePort off: Bun's default lets a second server share the port and split the requests.
    app.listen({ hostname: config.host, port: config.port, reusePort: false })
  } catch (error) {
    await services.shutdown()
    if ((error as { code?: string }).code === 'EADDRINUSE') fail(`port ${config.port} is already in use`)
    fail(`could not listen on ${config.host}:${config.port}: ${(error as Error).message}`)
  }
  const server = app.server
  if (!server) fail(`could not listen on ${config.host}:${config.port}`)
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host
  const baseUrl = config.publicUrl?.href.replace(/\/+$/, '') ?? `http://${shownHost}:${server.port}`
  await printPairing(services, baseUrl, secretsLine)
  // Interactive from here: the JIT's normal tier-up thresholds again (the build starts the binary
  // with raised ones for its run-once start-up code; scripts/build.ts says what that saved), half
  // a second on: set back at once, the JIT compiled start-up's functions (now over the normal
  // thresholds) while the first request waited. Start to healthy, set at once against 500 ms
  // later: median 100.0 vs 93.2 ms and 139.0 vs 115.9 ms (21 and 25 interleaved runs, load 2.1-2.7).
  // The first terminal's thread is started then too, so the first /ws/pty does not wait for it.
  setTimeout(() => {
    Bun.unsafe.setJITPolicy(1)
    warmTerminalThread()
  }, 500).unref()
}
