import { describe, expect, it } from 'bun:test'
import { PINNED_AGENT_PACKAGES } from '../../scripts/install-agents'
import { CLI_AGENTS } from '../../src/agents'
import { realAgentBinDir } from '../fixtures/real-agents'
import { REAL_AGENT_TEST_MS, startRealCockpit } from './harness'

/**
 * Every installed real CLI, with no key and no login of its own (the server's HOME is empty):
 * the task fails at once with an error naming what to set. Left to themselves the CLIs hang
 * (cline), retry (codex), say "Please run /login" (claude) or use a free hosted model (opencode).
 */
const expected: Record<string, string> = {
  claude: 'ANTHROPIC_API_KEY',
  codex: 'CODEX_API_KEY',
  gemini: 'GEMINI_API_KEY',
  opencode: 'OPENCODE_API_KEY',
  cline: 'cline auth',
}

const installed = Object.keys(expected).filter((name) => PINNED_AGENT_PACKAGES.some((p) => p.name === name) && realAgentBinDir(name) !== null)

/** The agents whose ACP entry point (claude-agent-acp, codex-acp, `gemini --acp`…) is installed. */
const acpInstalled = Object.keys(expected).filter((name) => {
  const program = CLI_AGENTS.find((d) => d.name === name)?.acp?.program
  return program !== undefined && PINNED_AGENT_PACKAGES.some((p) => p.bins.includes(program)) && realAgentBinDir(program) !== null
})

describe.skipIf(installed.length === 0)('a real agent without credentials', () => {
  it('fails its task within seconds, naming what to set, for every installed CLI', async () => {
    await using cockpit = await startRealCockpit(realAgentBinDir(installed[0]!)!)
    for (const agent of installed) {
      const taskId = await cockpit.startTask(agent, 'Create hello.txt')
      const task = await cockpit.waitFor(taskId, (t) => ['completed', 'failed', 'cancelled'].includes(t.status), 60_000)
      expect({ agent, status: task.status }).toEqual({ agent, status: 'failed' })
      expect(task.error).toContain(`Agent ${agent} has no credentials`)
      expect(task.error).toContain(expected[agent]!)
      expect(await cockpit.patches(taskId)).toEqual([])
    }
  }, REAL_AGENT_TEST_MS)
})

describe.skipIf(acpInstalled.length === 0)('a real ACP entry point without credentials', () => {
  it('fails its task within seconds, naming what to set, before the entry point starts', async () => {
    const acpMode = Object.fromEntries(acpInstalled.map((name) => [`AGENT_${name.toUpperCase()}_MODE`, 'acp']))
    await using cockpit = await startRealCockpit(realAgentBinDir(CLI_AGENTS.find((d) => d.name === acpInstalled[0])!.acp!.program)!, acpMode)
    const listed = (await cockpit.api<{ name: string; mode: string }[]>('/api/agents')).body
    for (const agent of acpInstalled) {
      expect(listed.find((a) => a.name === agent)?.mode).toBe('acp')
      const taskId = await cockpit.startTask(agent, 'Create hello.txt')
      const task = await cockpit.waitFor(taskId, (t) => ['completed', 'failed', 'cancelled'].includes(t.status), 60_000)
      expect({ agent, status: task.status }).toEqual({ agent, status: 'failed' })
      // The adapter's own sentence, not what the entry point says once started (auth_required, a hang).
      expect(task.error ?? '').toStartWith(`Agent ${agent} has no credentials: set one of `)
      expect(task.error).toContain(expected[agent]!)
      expect(await cockpit.patches(taskId)).toEqual([])
    }
  }, REAL_AGENT_TEST_MS)
})
