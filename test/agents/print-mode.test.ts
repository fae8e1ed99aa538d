import { describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_AGENTS, createCliAgent, type Agent, type PreparedRun } from '../../src/agents'

/**
 * The contract's print-mode rules for every built-in CLI adapter, without the CLIs: no
 * credentials → an error naming what to set (the task fails before anything starts); with them,
 * the argv and environment that keep the run safe. test/agents-real proves them with the CLIs.
 */
function withHome<T>(body: (home: string) => T): T {
  const home = mkdtempSync(join(tmpdir(), 'cockpit-home-'))
  try {
    return body(home)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

function prepare(agent: Agent, env: Record<string, string>): PreparedRun {
  return agent.prepareRun!(env, agent.launch({ instruction: 'Fix the login bug', context: null }).args, 'print')
}

const keyOf: Record<string, string> = { claude: 'ANTHROPIC_API_KEY', codex: 'CODEX_API_KEY', aider: 'OPENAI_API_KEY', gemini: 'GEMINI_API_KEY', opencode: 'ANTHROPIC_API_KEY', cline: 'CLINE_API_KEY' }

describe('print mode of every built-in CLI agent', () => {
  for (const definition of CLI_AGENTS) {
    it(`${definition.name}: without a key or a login, refuses to start and names what to set`, () => {
      withHome((home) => {
        const run = prepare(createCliAgent(definition), { PATH: '/usr/bin:/bin', HOME: home })
        expect('error' in run).toBe(true)
        const error = (run as { error: string }).error
        expect(error).toContain(`Agent ${definition.name} has no credentials`)
        expect(error).toContain(keyOf[definition.name]!)
      })
    })

    it(`${definition.name}: starts with its key, which reaches the CLI`, () => {
      withHome((home) => {
        const run = prepare(createCliAgent(definition), { PATH: '/usr/bin:/bin', HOME: home, [keyOf[definition.name]!]: 'k-123' })
        expect('error' in run).toBe(false)
        expect((run as { env: Record<string, string> }).env[keyOf[definition.name]!]).toBe('k-123')
      })
    })
  }

  it('counts a login the CLI stored under HOME as credentials', () => {
    withHome((home) => {
      mkdirSync(join(home, '.codex'))
      writeFileSync(join(home, '.codex', 'auth.json'), '{}')
      const codex = createCliAgent(CLI_AGENTS.find((d) => d.name === 'codex')!)
      expect('error' in prepare(codex, { HOME: home })).toBe(false)
    })
  })

  it('gives codex the OPENAI_BASE_URL variable as the config flag it reads, before the instruction', () => {
    const codex = createCliAgent(CLI_AGENTS.find((d) => d.name === 'codex')!)
    const run = prepare(codex, { HOME: '/nonexistent', CODEX_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }) as { args: string[] }
    expect(run.args.slice(0, 3)).toEqual(['exec', '-c', 'openai_base_url="http://127.0.0.1:9/v1"'])
    expect(run.args.at(-1)).toBe('Fix the login bug')
    expect(run.args).toContain('workspace-write')
  })

  it('runs codex-acp with every command asked (untrusted), the endpoint as a config flag, and authenticates with the key that is set', () => {
    const codex = createCliAgent(CLI_AGENTS.find((d) => d.name === 'codex')!)
    const env = { HOME: '/nonexistent', OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }
    const run = codex.prepareRun!(env, ['-c', 'model="mine"'], 'acp') as { args: string[] }
    expect(run.args).toEqual(['-c', 'approval_policy="untrusted"', '-c', 'sandbox_mode="danger-full-access"', '-c', 'openai_base_url="http://127.0.0.1:9/v1"', '-c', 'model="mine"'])
    const offered = ['chatgpt', 'codex-api-key', 'openai-api-key']
    expect(codex.acpAuthMethod!(env, offered)).toBe('openai-api-key')
    expect(codex.acpAuthMethod!({ ...env, CODEX_API_KEY: 'c' }, offered)).toBe('codex-api-key')
    expect(codex.acpAuthMethod!({ HOME: '/nonexistent' }, offered)).toBeNull()
    expect(codex.acpAuthMethod!(env, ['chatgpt'])).toBeNull()
    expect('error' in codex.prepareRun!({ HOME: '/nonexistent' }, [], 'acp')).toBe(true)
  })

  it('trusts the task workspace for gemini, so auto_edit is not silently dropped', () => {
    const gemini = createCliAgent(CLI_AGENTS.find((d) => d.name === 'gemini')!)
    const run = prepare(gemini, { HOME: '/nonexistent', GEMINI_API_KEY: 'k' }) as { args: string[]; env: Record<string, string> }
    expect(run.args).toContain('--skip-trust')
    expect(run.env.GEMINI_CLI_TRUST_WORKSPACE).toBe('true')
  })

  it('denies opencode bash and the web over a user config that allows them, and disables its free hosted provider', () => {
    const opencode = createCliAgent(CLI_AGENTS.find((d) => d.name === 'opencode')!)
    const user = JSON.stringify({ permission: { '*': 'allow', bash: 'allow' }, disabled_providers: ['x'], model: 'anthropic/claude' })
    const run = prepare(opencode, { HOME: '/nonexistent', ANTHROPIC_API_KEY: 'k', OPENCODE_CONFIG_CONTENT: user }) as { env: Record<string, string> }
    const config = JSON.parse(run.env.OPENCODE_CONFIG_CONTENT!) as Record<string, unknown>
    expect(config).toMatchObject({ model: 'anthropic/claude', permission: { '*': 'allow', bash: 'deny', webfetch: 'deny', edit: 'allow' } })
    expect(config.disabled_providers).toEqual(['x', 'opencode'])
    const withZenKey = prepare(opencode, { HOME: '/nonexistent', OPENCODE_API_KEY: 'k' }) as { env: Record<string, string> }
    expect((JSON.parse(withZenKey.env.OPENCODE_CONFIG_CONTENT!) as { disabled_providers: string[] }).disabled_providers).toEqual([])
  })

  it("recognises cline's approval question and answers it y or n", () => {
    const cline = createCliAgent(CLI_AGENTS.find((d) => d.name === 'cline')!)
    const prompt = cline.detectPrompt!('working…\nApprove "run_commands" {"commands":["touch pwned.txt"]} [y/N] ')
    expect(prompt).toEqual({ kind: 'approval', text: 'cline wants to use run_commands: {"commands":["touch pwned.txt"]}', options: ['y', 'n'] })
    expect(cline.answer!(prompt!, 'yes')).toBe('y\r')
    expect(cline.answer!(prompt!, 'no way')).toBe('n\r')
    expect(cline.detectPrompt!('Approve "x" is a word in a sentence\n')).toBeNull()
    // The AI SDK's warnings after the question leave it pending; the echoed answer does not.
    const warned = `Approve "apply_patch" {"input":"x"} [y/N] Warning: AI SDK Warning System: To turn off warning logging…\n      at iX (/$bunfs/root/chunk.js:26:46952)\n\nDeprecationWarning: AI SDK Warning (x): Deprecated\n      at J0 (/$bunfs/root/c.js:1:2)\n`
    expect(cline.detectPrompt!(warned)?.text).toBe('cline wants to use apply_patch: {"input":"x"}')
    expect(cline.detectPrompt!(`${warned}y\n[apply_patch] hello.txt\n`)).toBeNull()
  })

  it('records the ACP entry point of each agent that has one; auto only for those proven to ask (test/agents-real)', () => {
    const acp = Object.fromEntries(CLI_AGENTS.map((d) => [d.name, createCliAgent(d).acp ?? null]))
    expect(acp).toMatchObject({
      claude: { program: 'claude-agent-acp', args: [], auto: true },
      codex: { program: 'codex-acp', args: [], auto: true },
      aider: null,
      gemini: { program: 'gemini', args: ['--acp'], auto: true },
      opencode: { program: 'opencode', args: ['acp'], auto: true },
      cline: { program: 'cline', args: ['--acp'], auto: true },
    })
  })

  it('asks for opencode bash, the web and edits over ACP, over a user config that allows them, with its free hosted provider disabled', () => {
    const opencode = createCliAgent(CLI_AGENTS.find((d) => d.name === 'opencode')!)
    const user = JSON.stringify({ permission: { '*': 'allow', bash: { 'git *': 'allow' } }, disabled_providers: ['x'], model: 'anthropic/claude' })
    const run = opencode.prepareRun!({ HOME: '/nonexistent', ANTHROPIC_API_KEY: 'k', OPENCODE_CONFIG_CONTENT: user }, ['acp'], 'acp') as { args: string[]; env: Record<string, string> }
    expect(run.args).toEqual(['acp'])
    const config = JSON.parse(run.env.OPENCODE_CONFIG_CONTENT!) as Record<string, unknown>
    expect(config).toMatchObject({ model: 'anthropic/claude', permission: { '*': 'allow', bash: 'ask', webfetch: 'ask', websearch: 'ask', external_directory: 'ask', edit: 'ask' } })
    expect(config.disabled_providers).toEqual(['x', 'opencode'])
    // AGENT_OPENCODE_CMD overrides print mode only: over ACP the adapter's settings still apply.
    const overridden = createCliAgent(CLI_AGENTS.find((d) => d.name === 'opencode')!, 'my-opencode run')
    const acpRun = overridden.prepareRun!({ HOME: '/nonexistent', ANTHROPIC_API_KEY: 'k' }, ['acp'], 'acp') as { env: Record<string, string> }
    expect(JSON.parse(acpRun.env.OPENCODE_CONFIG_CONTENT!)).toMatchObject({ permission: { bash: 'ask' } })
    expect('error' in overridden.prepareRun!({ HOME: '/nonexistent' }, ['acp'], 'acp')).toBe(true)
    expect(overridden.prepareRun!({ HOME: '/nonexistent' }, ['run', 'x'], 'print')).toEqual({ args: ['run', 'x'], env: { HOME: '/nonexistent' } })
  })
})
