import { MOCK_ACP_FLAG, MOCK_AGENT_MARKER } from './mock-marker'
import { parseMockSpec } from './mock-spec'
import type { Agent, AgentPrompt } from './types'

/** True inside a `bun build --compile` binary, whose modules live in Bun's virtual /$bunfs. */
function runningCompiled(): boolean {
  return import.meta.path.startsWith('/$bunfs/') || /^[A-Z]:[\\/]~BUN[\\/]/.test(import.meta.path)
}

/**
 * argv prefix that runs this server's own executable as the mock agent. From source that is
 * `bun <mock-agent-entry.ts>` (Bun.main may be a test file, so it cannot be used); in the
 * compiled binary the executable alone, and main.ts dispatches the marker word.
 */
export function mockAgentCommand(): string[] {
  if (runningCompiled()) return [process.execPath]
  return [process.execPath, Bun.fileURLToPath(new URL('./mock-agent-entry.ts', import.meta.url))]
}

const PROMPT_PATTERN = /\[mock\] approval needed: (.*) \[y\/n\] ?$/

/**
 * The offline, deterministic agent, a real process either way: over ACP (the default) a
 * conversation that asks permission when `context.mock.ask` says so; in print mode
 * (AGENT_MOCK_MODE=print) a PTY program that streams coloured progress and echoes typed lines.
 * Both write the files `context.mock.edits` names (or append the instruction to COCKPIT_MOCK.md)
 * and fail on request. See mock-spec.ts for `context.mock`.
 */
export function createMockAgent(command: string[] = mockAgentCommand()): Agent {
  const [file, ...prefix] = command
  if (file === undefined) throw new Error('the mock agent command is empty')
  return {
    name: 'mock',
    description: 'Offline mock agent for trying the app: deterministic edits driven by context.mock',
    program: file,
    envVars: [],
    validate: ({ instruction, context }) => void parseMockSpec(instruction, context),
    launch: ({ instruction, context }) => ({
      file,
      args: [...prefix, MOCK_AGENT_MARKER, JSON.stringify(parseMockSpec(instruction, context))],
    }),
    // Over ACP the same executable speaks the protocol on stdio; the script still travels in argv.
    acp: { program: file, args: [...prefix, MOCK_AGENT_MARKER, MOCK_ACP_FLAG], auto: true },
    acpLaunch: ({ instruction, context }) => ({
      file,
      args: [...prefix, MOCK_AGENT_MARKER, MOCK_ACP_FLAG, JSON.stringify(parseMockSpec(instruction, context))],
    }),
    detectPrompt(outputTail: string): AgentPrompt | null {
      const match = PROMPT_PATTERN.exec(outputTail)
      return match ? { kind: 'approval', text: match[1]!, options: ['y', 'n'] } : null
    },
    answer: (_prompt, reply) => `${reply}\r`,
  }
}
