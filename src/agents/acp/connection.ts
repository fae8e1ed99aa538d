import * as acp from '@agentclientprotocol/sdk'
import { terminateGroup } from '../../cmdexec/process-group'
import { VERSION } from '../../version'
import { AcpAgentError } from './errors'

export { AcpAgentError }

/** What the ACP client hands to its owner (the task layer). */
export type AcpHandlers = {
  /** A `session/update` notification: message chunks, tool calls and the rest, in arrival order. */
  onUpdate(update: acp.SessionUpdate): void
  /** A `session/request_permission`; the promise settles with the outcome sent back. */
  onPermission(request: acp.RequestPermissionRequest): Promise<acp.RequestPermissionOutcome>
  /** The agent's stderr (its log), decoded. */
  onStderr(text: string): void
}

export type AcpStartOptions = {
  /** The agent's name, for error messages. */
  name: string
  file: string
  args: readonly string[]
  cwd: string
  env: Record<string, string>
  /** Bound on every request except session/prompt (initialize, session/new, session/load). */
  requestTimeoutMs: number
  /** Between SIGTERM and SIGKILL of the agent's process group. */
  killGraceMs: number
}

export type AgentExit = { code: number | null; signal: string | null }

const STDERR_TAIL_CHARS = 4096

/**
 * One agent process speaking ACP on its stdio, driven through the protocol's own library. The
 * process leads its own process group (setsid), so kill() stops everything it started. Every call
 * is bounded: it fails with an AcpAgentError when the agent answers with an error, exits, or does
 * not answer in time; nothing here waits forever.
 */
export class AcpAgentConnection {
  readonly exited: Promise<AgentExit>
  private readonly proc: ReturnType<typeof spawnAgent>
  private readonly connection: acp.ClientConnection
  private stderrTail = ''
  private exit: AgentExit | null = null
  private killing: Promise<void> | null = null

  private constructor(
    private readonly options: AcpStartOptions,
    handlers: AcpHandlers,
  ) {
    try {
      this.proc = spawnAgent(options)
    } catch (error) {
      throw new AcpAgentError(`Could not start agent ${options.name} (${options.file}): ${(error as Error).message}`)
    }
    this.exited = this.proc.exited.then((code): AgentExit => {
      const raw = this.proc.signalCode
      const signal = raw === null || raw === undefined ? null : String(raw)
      const exit: AgentExit = { code: signal === null ? code : null, signal }
      this.exit = exit
      return exit
    })
    void this.readStderr(handlers)
    const app = acp
      .client({ name: 'cockpit-coder' })
      .onRequest('session/request_permission', async ({ params }) => ({ outcome: await handlers.onPermission(params) }))
      .onNotification('session/update', ({ params }) => handlers.onUpdate(params.update))
    this.connection = app.connect(acp.ndJsonStream(stdinStream(this.proc.stdin), this.proc.stdout))
  }

  static start(options: AcpStartOptions, handlers: AcpHandlers): AcpAgentConnection {
    return new AcpAgentConnection(options, handlers)
  }

  get pid(): number {
    return this.proc.pid
  }

  get alive(): boolean {
    return this.exit === null
  }

  /** `initialize`; returns whether the agent offers `session/load`, and the ids of its auth methods. */
  async initialize(): Promise<{ loadSession: boolean; authMethods: string[] }> {
    const response = await this.call('initialize', this.options.requestTimeoutMs, 'ACP_REQUEST_TIMEOUT_SECONDS', () =>
      this.connection.agent.request('initialize', {
        protocolVersion: acp.PROTOCOL_VERSION,
        // The server does not offer file or terminal access: the agent works in its own cwd.
        clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
        clientInfo: { name: 'cockpit-coder', version: VERSION },
      }),
    )
    return { loadSession: response.agentCapabilities?.loadSession === true, authMethods: (response.authMethods ?? []).map((method) => method.id) }
  }

  /** `authenticate` with one of the methods `initialize` offered (codex-acp wants it before session/new). */
  async authenticate(methodId: string): Promise<void> {
    await this.call('authenticate', this.options.requestTimeoutMs, 'ACP_REQUEST_TIMEOUT_SECONDS', () => this.connection.agent.request('authenticate', { methodId }))
  }

  async newSession(cwd: string): Promise<string> {
    const response = await this.call('session/new', this.options.requestTimeoutMs, 'ACP_REQUEST_TIMEOUT_SECONDS', () => this.connection.agent.request('session/new', { cwd, mcpServers: [] }))
    return response.sessionId
  }

  async loadSession(sessionId: string, cwd: string): Promise<void> {
    await this.call('session/load', this.options.requestTimeoutMs, 'ACP_REQUEST_TIMEOUT_SECONDS', () => this.connection.agent.request('session/load', { sessionId, cwd, mcpServers: [] }))
  }

  /** One turn; resolves with the stop reason when the agent answers the prompt. */
  async prompt(sessionId: string, text: string, timeoutMs: number): Promise<acp.StopReason> {
    const response = await this.call('session/prompt', timeoutMs, 'the task timeout (TASK_TIMEOUT_SECONDS)', () =>
      this.connection.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text }] }),
    )
    return response.stopReason
  }

  /** `session/cancel`: the agent stops the turn and answers the prompt with `cancelled`. */
  cancel(sessionId: string): void {
    if (!this.alive) return
    this.connection.agent.notify('session/cancel', { sessionId }).catch(() => {
      // The agent is gone; its exit fails the running prompt.
    })
  }

  /** Stops the whole process group (SIGTERM, then SIGKILL after the grace period). */
  kill(): Promise<void> {
    this.killing ??= (async () => {
      if (this.alive) await terminateGroup(this.proc.pid, this.options.killGraceMs)
      this.connection.close()
      await this.exited
    })()
    return this.killing
  }

  /** What the agent last wrote on stderr: the best clue when it fails. */
  lastStderrLine(): string | null {
    const lines = Bun.stripANSI(this.stderrTail)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
    return lines.at(-1)?.slice(0, 300) ?? null
  }

  private async call<T>(method: string, timeoutMs: number, bound: string, send: () => Promise<T>): Promise<T> {
    const name = `Agent ${this.options.name}`
    let timer: ReturnType<typeof setTimeout> | undefined
    const took = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AcpAgentError(`${name} did not answer ${method} within ${bound} (${took}) and was stopped.`)), timeoutMs)
    })
    const died = this.exited.then((exit): never => {
      throw new AcpAgentError(`${name} ${describeExit(exit)} during ${method}${this.clue()}`)
    })
    try {
      return await Promise.race([send(), timeout, died])
    } catch (error) {
      if (error instanceof AcpAgentError) throw error
      if (error instanceof acp.RequestError || isJsonRpcError(error)) {
        const { message, data } = error as { message: string; data?: unknown }
        const detail = typeof data === 'string' ? data : data && typeof data === 'object' && 'details' in data ? String((data as { details: unknown }).details) : ''
        throw new AcpAgentError(`${name} answered ${method} with an error: ${message}${detail && !message.includes(detail) ? ` (${detail})` : ''}`)
      }
      // The connection closed under the request: its stdout ended, usually because it is exiting.
      // Its exit code says more than "connection closed", so give the exit a moment to arrive.
      await Promise.race([this.exited, Bun.sleep(1000)])
      if (!this.alive) throw new AcpAgentError(`${name} ${describeExit(this.exit!)} during ${method}${this.clue()}`)
      throw new AcpAgentError(`${name} broke the protocol during ${method}: ${(error as Error).message}${this.clue()}`)
    } finally {
      clearTimeout(timer)
    }
  }

  private clue(): string {
    const line = this.lastStderrLine()
    return line ? `: ${line}` : '.'
  }

  private async readStderr(handlers: AcpHandlers): Promise<void> {
    const decoder = new TextDecoder()
    try {
      // A reader rather than for-await: the page's type check (DOM lib) also reads this file, and
      // the DOM's ReadableStream type has no async iterator.
      const reader = this.proc.stderr.getReader()
      for (;;) {
        const { done, value: chunk } = await reader.read()
        if (done) break
        const text = decoder.decode(chunk, { stream: true })
        this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS)
        handlers.onStderr(text)
      }
    } catch {
      // stderr closed with the process.
    }
  }
}

function describeExit(exit: AgentExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
}

function isJsonRpcError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { message?: unknown }).message === 'string'
}

function spawnAgent(options: AcpStartOptions) {
  return Bun.spawn([options.file, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    // Its own process group, so a cancel reaches the tools it started too.
    detached: true,
  })
}

/** The agent's stdin (a Bun FileSink) as the WritableStream the ACP library writes to. */
function stdinStream(sink: import('bun').FileSink): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      sink.write(chunk)
      await sink.flush()
    },
    async close() {
      await sink.end()
    },
    abort() {
      void sink.end()
    },
  })
}
