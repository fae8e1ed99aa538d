/**
 * What an agent adapter is: a description, the program it needs on PATH, how one task's
 * instruction becomes an argv (print mode, run under a PTY), and the command line of its Agent
 * Client Protocol entry point (acp mode, JSON-RPC over stdio). The task layer runs either in the
 * task's workspace; adapters never spawn anything themselves.
 */

/** How a task's agent runs: a conversation over ACP, or one instruction in a PTY. */
export type AgentMode = 'acp' | 'print'

/** AGENT_<NAME>_MODE: `auto` is acp when the ACP entry point is on PATH, else print. */
export type AgentModeSetting = AgentMode | 'auto'

/** An ACP entry point: a program (a name on PATH or an absolute path) and its arguments. */
export type AcpEntryPoint = {
  program: string
  args: string[]
  /**
   * Proven here, with the adapter's ACP settings (prepareRun in acp mode), against the real CLI
   * and a scripted model API: every shell command arrives as session/request_permission (allowed
   * it runs, rejected it does not) and without credentials the task fails at once
   * (test/agents-real: claude-agent-acp, codex-acp, opencode acp, gemini --acp, cline --acp; and
   * the mock). Only such an entry point is chosen by AGENT_<NAME>_MODE=auto; any other runs over
   * ACP only when AGENT_<NAME>_MODE=acp asks for it (left alone, `opencode acp` ran bash with no
   * permission request at all, and codex-acp's presets run commands unasked).
   */
  auto?: boolean
  /** What GET /api/agents says about the agent when it runs over ACP (else its print-mode description). */
  description?: string
}

/** What a task asks of an agent. `context` is the client's free-form `context` object. */
export type AgentRequest = {
  instruction: string
  context: Record<string, unknown> | null
}

/** argv for one run. `file` is a program name (looked up on the server's PATH) or an absolute path. */
export type AgentLaunch = {
  file: string
  args: string[]
}

/**
 * A question an agent asks on its terminal and waits for (an approval, a yes/no). Adapters that can
 * recognise one in their output return it from `detectPrompt`; the task layer surfaces it as a
 * `status` event with phase `awaiting_input`, and whoever answers writes `answer(...)` to the
 * agent's terminal.
 */
export type AgentPrompt = {
  kind: 'approval' | 'question'
  text: string
  options: string[]
}

/**
 * What an agent runs with, decided just before it starts: the argv and the child's whole
 * environment, or why it cannot run (no credentials: the task fails with this sentence at once).
 */
export type PreparedRun = { args: string[]; env: Record<string, string> } | { error: string }

export interface Agent {
  readonly name: string
  readonly description: string
  /**
   * The program whose presence on PATH makes the agent available, or null when the agent is not
   * configured (the `custom` agent without AGENT_CUSTOM_CMD).
   */
  readonly program: string | null
  /**
   * Variables of the server's environment this agent needs (its provider's API key and the like).
   * Children otherwise get only the harmless allowlist of buildChildEnv, so a key meant for one
   * agent never reaches another, and the server's own secrets reach none.
   */
  readonly envVars: readonly string[]
  /**
   * Called with the child environment (the clean base plus this agent's envVars) and the argv of
   * the mode's command line (`launch` in print mode, the ACP entry point in acp mode) right before
   * the agent starts: checks its credentials (none → `{error}` naming what to set, never a silent
   * hosted fallback or a hang) and adds the flags and variables its CLI needs in that mode
   * (endpoints, safe permissions). Absent: the agent runs as launched.
   */
  prepareRun?(env: Readonly<Record<string, string>>, args: readonly string[], mode: AgentMode): PreparedRun
  /** Refuses a request this agent cannot run (throws BadRequestError) before a task is accepted. */
  validate?(request: AgentRequest): void
  launch(request: AgentRequest): AgentLaunch
  /**
   * The agent's ACP entry point (`claude-agent-acp`, `gemini --acp`...), when it has one. The
   * instruction never goes on this command line: it is the first `session/prompt`.
   */
  readonly acp?: AcpEntryPoint
  /**
   * Which of the auth methods the ACP entry point's `initialize` offered to `authenticate` with
   * before session/new, given the environment it runs with (codex-acp answers session/new with
   * "Authentication required" until told which key variable to use); null: none (its own login).
   */
  acpAuthMethod?(env: Readonly<Record<string, string>>, offered: readonly string[]): string | null
  /**
   * The ACP command line for one request, when it depends on the request (the mock carries its
   * script in argv); otherwise `acp` is used as it is.
   */
  acpLaunch?(request: AgentRequest): AgentLaunch
  /** A sentence added to a failed run's error when this machine's set-up may be the cause. */
  failureHint?(environment: Readonly<Record<string, string | undefined>>): string | null
  /**
   * Print mode: one line of the agent's output (ANSI stripped) that means the run did not do what
   * it was asked because of the CLI's own configuration, even if it then exits 0 (gemini in an
   * untrusted folder). Returns the task's error; the run then ends `failed` with it.
   */
  detectFailure?(line: string): string | null
  /**
   * Print mode: an agent that prints nothing at all for `ms` after it started is stopped and its
   * task fails with `hint` (cline waits silently for ever on a provider it cannot reach).
   */
  readonly firstOutputTimeout?: { ms: number; hint: string }
  /** Looks at the end of the agent's output (ANSI stripped) for a question it is waiting on. */
  detectPrompt?(outputTail: string): AgentPrompt | null
  /** The bytes to type into the agent's terminal to give `reply` to `prompt`. */
  answer?(prompt: AgentPrompt, reply: string): string
}

/**
 * What GET /api/agents says: `mode` is how a task would run now, `approvals` whether the agent's
 * permission requests reach the clients (only over ACP).
 */
export type AgentInfo = { name: string; available: boolean; description: string; mode: AgentMode; approvals: boolean }
