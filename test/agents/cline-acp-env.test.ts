import { describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_AGENTS, createCliAgent } from '../../src/agents'
import { commandOf } from '../../src/tasks/approval-subject'

/**
 * `cline --acp` reads neither the provider `cline auth` saved nor its key: the adapter hands them
 * over as CLINE_PROVIDER and CLINE_API_KEY in acp mode only (test/agents-real/cline-acp proves the
 * result with the CLI).
 */
const cline = createCliAgent(CLI_AGENTS.find((d) => d.name === 'cline')!)

function withProviders<T>(providers: unknown, body: (home: string) => T): T {
  const home = mkdtempSync(join(tmpdir(), 'cockpit-cline-'))
  try {
    if (providers !== undefined) {
      mkdirSync(join(home, '.cline', 'data', 'settings'), { recursive: true })
      writeFileSync(join(home, '.cline', 'data', 'settings', 'providers.json'), typeof providers === 'string' ? providers : JSON.stringify(providers))
    }
    return body(home)
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

const saved = {
  version: 1,
  lastUsedProvider: 'openai-compatible',
  providers: { 'openai-compatible': { settings: { provider: 'openai-compatible', apiKey: 'sk-local', model: 'gpt-x', baseUrl: 'http://127.0.0.1:9/v1' } } },
}

const envOf = (home: string, mode: 'acp' | 'print', extra: Record<string, string> = {}) => {
  const run = cline.prepareRun!({ PATH: '/usr/bin:/bin', HOME: home, ...extra }, ['--acp'], mode)
  if ('error' in run) throw new Error(run.error)
  return run.env
}

describe("cline's environment over ACP", () => {
  it('hands the provider cline auth configured, its key and model to cline --acp, and keeps it in one process', () => {
    withProviders(saved, (home) => {
      expect(envOf(home, 'acp')).toMatchObject({ CLINE_PROVIDER: 'openai-compatible', CLINE_API_KEY: 'sk-local', CLINE_MODEL: 'gpt-x', CLINE_SESSION_BACKEND_MODE: 'local' })
    })
  })

  it('leaves print mode, an operator-set CLINE_API_KEY or CLINE_PROVIDER, and cline’s own logins alone', () => {
    withProviders(saved, (home) => {
      expect(envOf(home, 'print').CLINE_PROVIDER).toBeUndefined()
      expect(envOf(home, 'acp', { CLINE_API_KEY: 'account-key' })).toMatchObject({ CLINE_API_KEY: 'account-key' })
      expect(envOf(home, 'acp', { CLINE_API_KEY: 'account-key' }).CLINE_PROVIDER).toBeUndefined()
      expect(envOf(home, 'acp', { CLINE_PROVIDER: 'anthropic' }).CLINE_API_KEY).toBeUndefined()
    })
    withProviders({ ...saved, lastUsedProvider: 'cline', providers: { cline: { settings: { apiKey: 'oauth' } } } }, (home) => {
      expect(envOf(home, 'acp').CLINE_PROVIDER).toBeUndefined()
    })
  })

  it('adds nothing for a providers.json it cannot use (broken JSON, no key)', () => {
    withProviders('{not json', (home) => expect(envOf(home, 'acp').CLINE_API_KEY).toBeUndefined())
    withProviders({ ...saved, providers: { 'openai-compatible': { settings: { model: 'm' } } } }, (home) => expect(envOf(home, 'acp').CLINE_API_KEY).toBeUndefined())
  })

  it("shows run_commands' commands as the command a person approves", () => {
    expect(commandOf({ toolCallId: 'a', kind: 'execute', title: 'run_commands: npm test', rawInput: { commands: ['npm test'] } })).toBe('npm test')
    expect(commandOf({ toolCallId: 'b', kind: 'execute', title: 'run_commands', rawInput: { commands: ['npm i', 'npm test'] } })).toBe('npm i; npm test')
    expect(commandOf({ toolCallId: 'c', kind: 'execute', title: 'x', rawInput: { commands: [1] } })).toBe('x')
  })
})
