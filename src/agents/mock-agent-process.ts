import { decodeMockSpec, type MockSpec } from './mock-spec'
import { MOCK_ACP_FLAG, MOCK_AGENT_MARKER } from './mock-marker'
import { applyMockEdit, defaultMockEdit, mockWorkSteps } from './mock-work'

export { MOCK_ACP_FLAG, MOCK_AGENT_MARKER }

const paint = (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m`
const tag = paint(36, '[mock]')

/** Lines typed on the terminal: each is acknowledged, and one may answer a pending prompt. */
class InputLines {
  private buffered = ''
  private waiter: ((line: string) => void) | null = null

  constructor(private readonly out: (text: string) => void) {
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk: string) => this.receive(chunk))
  }

  nextLine(): Promise<string> {
    return new Promise((resolve) => (this.waiter = resolve))
  }

  close(): void {
    process.stdin.removeAllListeners('data')
    process.stdin.pause()
  }

  private receive(chunk: string): void {
    this.buffered += chunk
    let end: number
    while ((end = this.buffered.search(/\r|\n/)) !== -1) {
      const line = this.buffered.slice(0, end)
      this.buffered = this.buffered.slice(end + 1)
      if (line === '') continue
      const waiter = this.waiter
      this.waiter = null
      if (waiter) waiter(line)
      else this.out(`${tag} ${paint(33, 'follow-up acknowledged:')} ${line}\r\n`)
    }
  }
}

async function work(spec: MockSpec, out: (text: string) => void): Promise<void> {
  for (const [step, steps, ms] of mockWorkSteps(spec.delayMs)) {
    await Bun.sleep(ms)
    out(`${tag} ${paint(2, `working… ${step}/${steps}`)}\r\n`)
  }
}

/**
 * The mock agent: a real process under the task's PTY, so cancel, kill, attach and user messages
 * behave as they do with real agents. Deterministic and offline. Returns the exit code.
 */
export async function runMockAgentProcess(argv: readonly string[]): Promise<number> {
  const out = (text: string) => void process.stdout.write(text)
  const marker = argv.indexOf(MOCK_AGENT_MARKER)
  const overAcp = argv[marker + 1] === MOCK_ACP_FLAG
  let spec: MockSpec
  try {
    spec = decodeMockSpec(argv[marker + (overAcp ? 2 : 1)] ?? '')
  } catch (error) {
    process.stderr.write(`${tag} ${paint(31, `bad mock spec: ${(error as Error).message}`)}\r\n`)
    return 2
  }
  // The ACP library (its zod schemas take tens of ms to evaluate) loads only in ACP mode.
  if (overAcp) return (await import('./mock-acp-agent')).runMockAcpAgent(spec)
  const input = new InputLines(out)
  try {
    out(`${tag} ${paint(1, 'mock agent')} starting in ${process.cwd()}\r\n`)
    out(`${tag} instruction: ${spec.instruction}\r\n`)
    await work(spec, out)
    if (spec.prompt !== null) {
      out(`${tag} ${paint(35, 'approval needed:')} ${spec.prompt} [y/n] `)
      const reply = (await input.nextLine()).trim().toLowerCase()
      if (!reply.startsWith('y')) {
        process.stderr.write(`\r\n${tag} ${paint(31, 'mock agent failed: approval declined')}\r\n`)
        return 1
      }
      out(`${tag} approved\r\n`)
    }
    if (spec.output !== null) out(spec.output.replace(/\r?\n/g, '\r\n') + '\r\n')
    const cwd = process.cwd()
    const changed = spec.edits === null ? [defaultMockEdit(cwd, spec.instruction)] : spec.edits.map((e) => (applyMockEdit(cwd, e.file, e.content), e.file))
    for (const file of changed) out(`${tag} ${paint(32, 'edited')} ${file}\r\n`)
    if (spec.fail) {
      process.stderr.write(`${tag} ${paint(31, `mock agent failed: ${spec.output ?? 'failure requested by context.mock.fail'}`)}\r\n`)
      return 1
    }
    out(`${tag} ${paint(32, `done, ${changed.length} file(s) changed`)}\r\n`)
    return 0
  } catch (error) {
    process.stderr.write(`${tag} ${paint(31, `mock agent failed: ${(error as Error).message}`)}\r\n`)
    return 3
  } finally {
    input.close()
  }
}
