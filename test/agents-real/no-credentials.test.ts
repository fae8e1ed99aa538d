import { describe, expect, it } from 'bun:test'
import { PINNED_AGENT_PACKAGES } from '../../scripts/install-agents'
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
