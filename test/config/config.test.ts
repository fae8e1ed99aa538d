import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs as nodeParseArgs } from 'node:util'
import { ConfigError, loadConfig, parseArgs, usage } from '../../src/config'
import { argSpec, parsePlainArgs } from '../../src/config/config'

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-config-')))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const base = { REPO_ALLOWLIST: dir }

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig(base)
    expect(config.port).toBe(8080)
    expect(config.host).toBe('127.0.0.1')
    expect(config.sessionTtlSeconds).toBe(86400)
    expect(config.cmdAllowlist).toEqual(['npm test', 'go test', 'npm run build', 'pytest'])
    expect(config.corsOrigins).toEqual(['http://localhost:19006'])
    expect(config.defaultAgent).toBe('mock')
    expect(config.jwtSecretGenerated).toBe(true)
    expect(config.pairingToken.length).toBeGreaterThanOrEqual(16)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('defaults REPO_ALLOWLIST to the directory it started in', () => {
    expect(loadConfig({}, {}, dir).repoAllowlist).toEqual([dir])
  })

  it('names PORT when it is not a number', () => {
    expect(configError({ ...base, PORT: 'abc' })).toStartWith('PORT:')
    expect(configError({ ...base, PORT: '70000' })).toStartWith('PORT:')
  })

  it('names REPO_ALLOWLIST for a relative or missing directory', () => {
    expect(configError({ REPO_ALLOWLIST: 'relative/path' })).toStartWith('REPO_ALLOWLIST:')
    expect(configError({ REPO_ALLOWLIST: join(dir, 'missing') })).toStartWith('REPO_ALLOWLIST:')
  })

  it('resolves allowlist entries through symlinks', () => {
    const link = join(dir, 'link')
    symlinkSync(dir, link)
    expect(loadConfig({ REPO_ALLOWLIST: link }).repoAllowlist).toEqual([dir])
  })

  it('refuses a weak JWT_SECRET unless DEV_MODE', () => {
    expect(configError({ ...base, JWT_SECRET: 'change_me' })).toStartWith('JWT_SECRET:')
    expect(configError({ ...base, JWT_SECRET: 'short' })).toStartWith('JWT_SECRET:')
    expect(loadConfig({ ...base, JWT_SECRET: 'change_me', DEV_MODE: '1' }).jwtSecret).toBe('change_me')
  })

  it('names CORS_ORIGINS, PUBLIC_URL, LOG_LEVEL and DEV_MODE for bad values', () => {
    expect(configError({ ...base, CORS_ORIGINS: 'not a url' })).toStartWith('CORS_ORIGINS:')
    expect(configError({ ...base, PUBLIC_URL: 'ftp://x' })).toStartWith('PUBLIC_URL:')
    expect(configError({ ...base, LOG_LEVEL: 'loud' })).toStartWith('LOG_LEVEL:')
    expect(configError({ ...base, DEV_MODE: 'maybe' })).toStartWith('DEV_MODE:')
    expect(configError({ ...base, SESSION_TTL_SECONDS: '-5' })).toStartWith('SESSION_TTL_SECONDS:')
  })

  it('lets a flag win over the environment', () => {
    const { values } = parseArgs(['--port', '9000', '--host=0.0.0.0', '--dev-mode'])
    const config = loadConfig({ ...base, PORT: '1234' }, values)
    expect(config.port).toBe(9000)
    expect(config.host).toBe('0.0.0.0')
    expect(config.devMode).toBe(true)
  })

  it('reads agent command overrides', () => {
    expect(loadConfig({ ...base, AGENT_CLAUDE_CMD: 'claude -p' }).agentCommands).toEqual({ claude: 'claude -p' })
  })
})

describe('parseArgs', () => {
  it('refuses an unknown option and a missing value', () => {
    expect(() => parseArgs(['--nope'])).toThrow('unknown option --nope')
    expect(() => parseArgs(['--port'])).toThrow('--port needs a value')
  })

  it('reads plain long options as node:util does, and leaves every other line to it', () => {
    const spec = argSpec()
    const plain = [
      [], ['--port', '0'], ['--port=0'], ['--port', '1', '--port', '2'], ['--host=0.0.0.0', '--dev-mode', '--port', '9000'],
      ['--help'], ['--version', '--help'], ['--rotate-secrets', '--rotate-secrets'], ['--public-url=https://x.example/a=b'],
    ]
    for (const argv of plain) {
      const node: unknown = { ...nodeParseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values }
      expect([argv, parsePlainArgs(argv, spec)] as unknown[]).toEqual([argv, node])
    }
    const others = [
      ['-h'], ['-v'], ['--'], ['repo'], ['--nope'], ['--port'], ['--port', '--help'], ['--port', '-1'], ['--port='], ['--port', ''],
      ['--help=yes'], ['--no-dev-mode'], ['--__proto__', 'x'], ['--toString', 'x'], ['---port', '1'], ['--port', '1', 'extra'],
    ]
    for (const argv of others) expect([argv, parsePlainArgs(argv, spec)] as unknown[]).toEqual([argv, null])
    // The same answers through parseArgs, whichever reader took the line.
    expect(() => parseArgs(['--port', '-1'])).toThrow('--port needs a value')
    expect(parseArgs(['--port=-1']).values.PORT).toBe('-1')
    expect(() => parseArgs(['--port', '1', 'extra'])).toThrow(ConfigError)
  })

  it('knows --help and --version', () => {
    expect(parseArgs(['--help']).help).toBe(true)
    expect(parseArgs(['--version']).version).toBe(true)
  })

  it('lists every variable of the contract in the usage text', () => {
    const text = usage('1.0.0')
    for (const name of ['PORT', 'HOST', 'PUBLIC_URL', 'JWT_SECRET', 'PAIRING_TOKEN', 'DEV_MODE', 'SESSION_TTL_SECONDS', 'REPO_ALLOWLIST', 'CMD_ALLOWLIST', 'CORS_ORIGINS', 'STATE_DIR', 'DEFAULT_AGENT', 'ALLOWED_HOSTS']) {
      expect(text).toContain(name)
    }
  })
})

describe('conversation settings', () => {
  it('defaults to APPROVAL_POLICY=edits, 900 s approvals, 1800 s idle agents', () => {
    const config = loadConfig(base)
    expect(config).toMatchObject({ approvalPolicy: 'edits', approvalTimeoutMs: 900_000, agentIdleMs: 1_800_000, agentModes: {}, agentAcpCommands: {} })
  })

  it('reads AGENT_<NAME>_MODE and AGENT_<NAME>_ACP_CMD, and never takes an ACP_CMD for the CMD of another agent', () => {
    const config = loadConfig({ ...base, AGENT_CLAUDE_MODE: 'PRINT', AGENT_CODEX_ACP_CMD: 'codex-acp -c x=1', AGENT_CODEX_CMD: 'codex exec' })
    expect(config.agentModes).toEqual({ claude: 'print' })
    expect(config.agentAcpCommands).toEqual({ codex: 'codex-acp -c x=1' })
    expect(config.agentCommands).toEqual({ codex: 'codex exec' })
  })

  it('refuses a bad policy, mode or timeout with one line naming the variable', () => {
    expect(configError({ ...base, APPROVAL_POLICY: 'yolo' })).toContain('APPROVAL_POLICY')
    expect(configError({ ...base, AGENT_CLAUDE_MODE: 'sometimes' })).toContain('AGENT_CLAUDE_MODE')
    expect(configError({ ...base, APPROVAL_TIMEOUT_SECONDS: '0' })).toContain('APPROVAL_TIMEOUT_SECONDS')
    expect(configError({ ...base, AGENT_IDLE_SECONDS: 'soon' })).toContain('AGENT_IDLE_SECONDS')
  })
})
