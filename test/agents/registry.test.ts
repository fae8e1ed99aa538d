import { describe, expect, it } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgentRegistry } from '../../src/agents'
import { ConfigError } from '../../src/config'

/** A PATH directory holding executables with the given names (empty scripts). */
function binWith(...names: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-agents-'))
  mkdirSync(join(dir, 'bin'))
  for (const name of names) {
    writeFileSync(join(dir, 'bin', name), '#!/bin/sh\n')
    chmodSync(join(dir, 'bin', name), 0o755)
  }
  return { path: join(dir, 'bin'), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

const argvOf = (registry: ReturnType<typeof createAgentRegistry>, name: string, instruction: string) => {
  const prepared = registry.prepare(name, { instruction, context: null })
  return [prepared.file, ...prepared.args]
}

describe('agent adapters', () => {
  it('start each CLI in print mode with its documented unattended flags and the instruction as one argument', () => {
    using bin = binWith('claude', 'codex', 'aider', 'gemini', 'opencode', 'cline')
    const print = { claude: 'print', codex: 'print', gemini: 'print', opencode: 'print', cline: 'print' } as const
    const registry = createAgentRegistry({ searchPath: () => bin.path, agentModes: print })
    const at = (program: string) => join(bin.path, program)
    const instruction = 'Fix the "login" bug; then run tests'
    expect(argvOf(registry, 'claude', instruction)).toEqual([at('claude'), '-p', '--restricted', '--permission-mode', 'acceptEdits', '--permission-prompts', 'none', instruction])
    expect(argvOf(registry, 'codex', instruction)).toEqual([
      at('codex'),
      'exec',
      '--sandbox',
      'workspace-write',
      '-c',
      'sandbox_workspace_write.exclude_slash_tmp=true',
      '-c',
      'sandbox_workspace_write.exclude_tmpdir_env_var=true',
      instruction,
    ])
    expect(argvOf(registry, 'aider', instruction)).toEqual([
      at('aider'),
      '--yes-always',
      '--no-auto-commits',
      '--no-check-update',
      '--no-gitignore',
      '--no-suggest-shell-commands',
      `--message=${instruction}`,
    ])
    expect(argvOf(registry, 'gemini', instruction)).toEqual([at('gemini'), '--approval-mode', 'auto_edit', '--skip-trust', `--prompt=${instruction}`])
    // opencode wraps a word holding a space in literal quotes: the words go one by one.
    expect(argvOf(registry, 'opencode', instruction)).toEqual([at('opencode'), 'run', '--', ...instruction.split(' ')])
    expect(argvOf(registry, 'cline', instruction)).toEqual([at('cline'), '--auto-approve', 'false', instruction])
  })

  it('puts an instruction that looks like an option after --', () => {
    using bin = binWith('claude', 'codex')
    const registry = createAgentRegistry({ searchPath: () => bin.path })
    expect(argvOf(registry, 'claude', '--dangerously-skip-permissions').slice(-2)).toEqual(['--', '--dangerously-skip-permissions'])
    expect(argvOf(registry, 'codex', '-h').slice(-2)).toEqual(['--', '-h'])
  })

  it('reports an agent available only when its program is on PATH', () => {
    using bin = binWith('gemini')
    const registry = createAgentRegistry({ searchPath: () => bin.path })
    const available = registry.list().filter((a) => a.available).map((a) => a.name)
    expect(available).toEqual(['mock', 'gemini'])
  })

  it('does not count a non-executable file on PATH as installed', () => {
    using bin = binWith()
    writeFileSync(join(bin.path, 'codex'), 'not a program')
    chmodSync(join(bin.path, 'codex'), 0o644)
    const registry = createAgentRegistry({ searchPath: () => bin.path })
    expect(registry.list().find((a) => a.name === 'codex')!.available).toBe(false)
  })
})

describe('AGENT_<NAME>_CMD overrides', () => {
  it('appends the instruction as the last argument, splitting the command line like a shell without running one', () => {
    using bin = binWith('my-claude')
    const registry = createAgentRegistry({ agentCommands: { claude: `my-claude -p --model 'opus 4' $HOME;id` }, searchPath: () => bin.path })
    expect(argvOf(registry, 'claude', 'do it')).toEqual([join(bin.path, 'my-claude'), '-p', '--model', 'opus 4', '$HOME;id', 'do it'])
    expect(registry.list().find((a) => a.name === 'claude')!.description).toContain('AGENT_CLAUDE_CMD')
  })

  it('substitutes {instruction} wherever it appears instead of appending', () => {
    using bin = binWith('aider')
    const registry = createAgentRegistry({ agentCommands: { aider: 'aider --message={instruction} --yes-always' }, searchPath: () => bin.path })
    expect(argvOf(registry, 'aider', 'a b')).toEqual([join(bin.path, 'aider'), '--message=a b', '--yes-always'])
  })

  it('defines the custom agent from AGENT_CUSTOM_CMD, unavailable without it', () => {
    using bin = binWith('my-agent')
    const without = createAgentRegistry({ searchPath: () => bin.path })
    expect(without.list().find((a) => a.name === 'custom')).toMatchObject({ available: false })
    expect(() => without.prepare('custom', { instruction: 'x', context: null })).toThrow(/not configured/)
    const configured = createAgentRegistry({ agentCommands: { custom: 'my-agent run' }, searchPath: () => bin.path })
    expect(configured.list().find((a) => a.name === 'custom')).toMatchObject({ available: true })
    expect(argvOf(configured, 'custom', 'go')).toEqual([join(bin.path, 'my-agent'), 'run', 'go'])
  })

  it('accepts an absolute program path but not a relative one', () => {
    using bin = binWith('abs-agent')
    const absolute = createAgentRegistry({ agentCommands: { custom: join(bin.path, 'abs-agent') }, searchPath: () => '/nonexistent' })
    expect(absolute.list().find((a) => a.name === 'custom')!.available).toBe(true)
    const relative = createAgentRegistry({ agentCommands: { custom: './bin/abs-agent' }, searchPath: () => bin.path })
    expect(relative.list().find((a) => a.name === 'custom')!.available).toBe(false)
  })

  it('stops start-up with a ConfigError naming the variable for a command line that cannot be split', () => {
    expect(() => createAgentRegistry({ agentCommands: { codex: 'codex "unterminated' }, searchPath: () => '' })).toThrow(ConfigError)
    expect(() => createAgentRegistry({ agentCommands: { codex: 'codex "unterminated' }, searchPath: () => '' })).toThrow(/AGENT_CODEX_CMD/)
    expect(() => createAgentRegistry({ agentCommands: { custom: '   ' }, searchPath: () => '' })).toThrow(/AGENT_CUSTOM_CMD: the command line is empty/)
    expect(() => createAgentRegistry({ agentCommands: { custom: '{instruction} x' }, searchPath: () => '' })).toThrow(/AGENT_CUSTOM_CMD/)
  })
})

describe('refusals', () => {
  it('names the available agents when the requested one is unknown or missing', () => {
    const registry = createAgentRegistry({ searchPath: () => '/nonexistent' })
    expect(() => registry.prepare('nope', { instruction: 'x', context: null })).toThrow('Unknown agent "nope"; available: mock.')
    try {
      registry.prepare('claude', { instruction: 'x', context: null })
      throw new Error('expected a refusal')
    } catch (error) {
      expect(error).toMatchObject({ status: 400, kind: 'agent_unavailable' })
      expect((error as Error).message).toBe('Agent "claude" needs "claude" on the server\'s PATH; available: mock.')
    }
  })
})

describe('acp or print mode (AGENT_<NAME>_MODE, AGENT_<NAME>_ACP_CMD)', () => {
  const info = (registry: ReturnType<typeof createAgentRegistry>, name: string) => registry.list().find((a) => a.name === name)

  it('runs an agent over ACP when its entry point is on PATH (auto), in print mode when only its CLI is', () => {
    using bin = binWith('claude', 'claude-agent-acp', 'codex', 'aider')
    using withAcp = binWith('codex', 'codex-acp')
    const registry = createAgentRegistry({ searchPath: () => bin.path })
    expect(info(registry, 'claude')).toMatchObject({ available: true, mode: 'acp', approvals: true })
    expect(info(registry, 'codex')).toMatchObject({ available: true, mode: 'print', approvals: false })
    expect(info(createAgentRegistry({ searchPath: () => withAcp.path }), 'codex')).toMatchObject({ available: true, mode: 'acp', approvals: true })
    expect(info(registry, 'aider')).toMatchObject({ available: true, mode: 'print', approvals: false })
    const prepared = registry.prepare('claude', { instruction: 'hi', context: null })
    expect(prepared).toMatchObject({ mode: 'acp', file: join(bin.path, 'claude-agent-acp'), args: [] })
  })

  it('uses the documented entry points: codex-acp, gemini --acp, opencode acp, cline --acp', () => {
    using bin = binWith('codex-acp', 'gemini', 'opencode', 'cline')
    const registry = createAgentRegistry({ searchPath: () => bin.path })
    const argv = (name: string) => {
      const p = registry.prepare(name, { instruction: 'x', context: null })
      return [p.mode, p.file, ...p.args]
    }
    // On auto each of these entry points is chosen: every one is proven to ask for approvals with
    // the adapter's settings (test/agents-real); AGENT_<NAME>_MODE=print keeps one in print mode.
    for (const name of ['codex', 'gemini', 'opencode', 'cline']) expect(info(registry, name)).toMatchObject({ mode: 'acp', approvals: true, description: expect.stringContaining('over ACP') })
    const explicit = createAgentRegistry({ searchPath: () => bin.path, agentModes: { codex: 'acp', gemini: 'acp', opencode: 'acp', cline: 'acp' } })
    const acpArgv = (name: string) => {
      const p = explicit.prepare(name, { instruction: 'x', context: null })
      return [p.mode, p.file, ...p.args]
    }
    expect(acpArgv('codex')).toEqual(['acp', join(bin.path, 'codex-acp')])
    expect(acpArgv('gemini')).toEqual(['acp', join(bin.path, 'gemini'), '--acp'])
    expect(acpArgv('opencode')).toEqual(['acp', join(bin.path, 'opencode'), 'acp'])
    expect(acpArgv('cline')).toEqual(['acp', join(bin.path, 'cline'), '--acp'])
  })

  it('keeps print mode when AGENT_<NAME>_MODE=print, and refuses acp without its entry point, saying what to set', () => {
    using bin = binWith('claude', 'claude-agent-acp', 'codex')
    const registry = createAgentRegistry({ searchPath: () => bin.path, agentModes: { claude: 'print', codex: 'acp' } })
    expect(info(registry, 'claude')).toMatchObject({ mode: 'print', approvals: false })
    expect(registry.prepare('claude', { instruction: 'hi', context: null }).args).toContain('-p')
    expect(info(registry, 'codex')).toMatchObject({ available: false, mode: 'acp' })
    expect(() => registry.prepare('codex', { instruction: 'hi', context: null })).toThrow(/codex-acp.*AGENT_CODEX_MODE=acp/)
  })

  it('replaces the ACP command line with AGENT_<NAME>_ACP_CMD, split like a shell without running one', () => {
    using bin = binWith('my-acp')
    const registry = createAgentRegistry({ searchPath: () => bin.path, agentAcpCommands: { claude: 'my-acp --flag "two words"' } })
    expect(info(registry, 'claude')).toMatchObject({ available: true, mode: 'acp', approvals: true, description: 'claude over ACP (command line from AGENT_CLAUDE_ACP_CMD)' })
    expect(registry.prepare('claude', { instruction: 'hi', context: null })).toMatchObject({ file: join(bin.path, 'my-acp'), args: ['--flag', 'two words'] })
    expect(() => createAgentRegistry({ searchPath: () => bin.path, agentAcpCommands: { claude: 'unterminated "quote' } })).toThrow(ConfigError)
    expect(() => createAgentRegistry({ searchPath: () => bin.path, agentAcpCommands: { claude: 'unterminated "quote' } })).toThrow(/AGENT_CLAUDE_ACP_CMD/)
  })

  it('passes IS_SANDBOX through to claude and says what to do when it runs as root without it', () => {
    using bin = binWith('claude')
    const claude = createAgentRegistry({ searchPath: () => bin.path }).get('claude')!
    expect(claude.envVars).toContain('IS_SANDBOX')
    expect(claude.envVars).toContain('ANTHROPIC_BASE_URL')
    const hint = claude.failureHint?.({}) ?? null
    if (process.getuid?.() === 0) expect(hint).toContain('IS_SANDBOX=1')
    else expect(hint).toBeNull()
    expect(claude.failureHint?.({ IS_SANDBOX: '1' }) ?? null).toBeNull()
  })
})
