import { BadRequestError } from '../errors'

/**
 * What the mock agent does, as the client's `context.mock` describes it. Shared by the server
 * (which validates it before accepting a task) and the mock process (which re-parses its argv).
 */
export type MockEdit = { file: string; content: string | null }

export type MockSpec = {
  instruction: string
  delayMs: number
  /** null: no `context.mock`, so the default edit derived from the instruction. */
  edits: MockEdit[] | null
  fail: boolean
  output: string | null
  /** A question the mock asks and waits on before editing (print mode: exercises the prompt seam). */
  prompt: string | null
  /** Over ACP: the permission the mock asks for (session/request_permission) before editing. */
  ask: MockAsk | null
}

/** `repeat`: asks that many times in a row, each needing an allow (`bun run bench` times the round trips). */
export type MockAsk = { title: string; kind: 'execute' | 'edit' | 'other'; command: string | null; repeat: number }

export const MOCK_LIMITS = {
  maxDelayMs: 24 * 60 * 60 * 1000,
  maxEdits: 100,
  /** The spec travels as one argv word; Linux caps a single argument at 128 KiB. */
  maxSpecBytes: 100 * 1024,
} as const

/** The file the mock appends to when no edits were asked for. */
export const MOCK_DEFAULT_FILE = 'COCKPIT_MOCK.md'

function bad(message: string): BadRequestError {
  return new BadRequestError(`context.mock: ${message}`, 'invalid_mock_spec')
}

function optionalString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') throw bad(`${field} must be a string.`)
  return value
}

function parseEdits(value: unknown): MockEdit[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value)) throw bad('edits must be an array of {file, content}.')
  if (value.length > MOCK_LIMITS.maxEdits) throw bad(`at most ${MOCK_LIMITS.maxEdits} edits.`)
  return value.map((edit: unknown, index) => {
    if (typeof edit !== 'object' || edit === null) throw bad(`edits[${index}] must be an object {file, content}.`)
    const { file, content } = edit as Record<string, unknown>
    if (typeof file !== 'string' || file === '') throw bad(`edits[${index}].file must be a non-empty relative path.`)
    if (content !== null && typeof content !== 'string') throw bad(`edits[${index}].content must be a string, or null to delete.`)
    checkRelativePath(file, index)
    return { file, content }
  })
}

/** The lexical part of the path check; the mock process also realpath-checks before writing. */
function checkRelativePath(file: string, index: number): void {
  const segments = file.split('/')
  if (file.startsWith('/') || file.includes('\\') || file.includes('\0')) throw bad(`edits[${index}].file ${file} must be relative to the workspace.`)
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw bad(`edits[${index}].file ${file} must not contain "..", "." or empty segments.`)
  if (segments.some((s) => s.toLowerCase() === '.git')) throw bad(`edits[${index}].file ${file} is inside .git.`)
}

function parseAsk(value: unknown): MockAsk | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('ask must be an object {title, kind?, command?}.')
  const { title, kind, command, repeat } = value as Record<string, unknown>
  if (typeof title !== 'string' || title.trim() === '') throw bad('ask.title must be a non-empty string.')
  const askKind = kind ?? 'execute'
  if (askKind !== 'execute' && askKind !== 'edit' && askKind !== 'other') throw bad('ask.kind must be execute, edit or other.')
  const times = repeat ?? 1
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > 1000) throw bad('ask.repeat must be a whole number from 1 to 1000.')
  return { title, kind: askKind, command: optionalString(command, 'ask.command'), repeat: times }
}

/** Validates `context.mock` (absent means the default run) and returns the full spec. */
export function parseMockSpec(instruction: string, context: Record<string, unknown> | null): MockSpec {
  const raw = context?.mock
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw bad('must be an object.')
  const mock = (raw ?? {}) as Record<string, unknown>
  const delay = mock.delayMs ?? 0
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MOCK_LIMITS.maxDelayMs) {
    throw bad(`delayMs must be a whole number of milliseconds from 0 to ${MOCK_LIMITS.maxDelayMs}.`)
  }
  if (mock.fail !== undefined && typeof mock.fail !== 'boolean') throw bad('fail must be true or false.')
  const spec: MockSpec = {
    instruction,
    delayMs: delay,
    edits: parseEdits(mock.edits),
    fail: mock.fail === true,
    output: optionalString(mock.output, 'output'),
    prompt: optionalString(mock.prompt, 'prompt'),
    ask: parseAsk(mock.ask),
  }
  if (Buffer.byteLength(JSON.stringify(spec)) > MOCK_LIMITS.maxSpecBytes) {
    throw bad(`the spec is over ${MOCK_LIMITS.maxSpecBytes} bytes; use smaller edits.`)
  }
  return spec
}

/** The mock process's side: the spec arrives as JSON it wrote itself, so only shape is checked. */
export function decodeMockSpec(json: string): MockSpec {
  const value = JSON.parse(json) as Partial<MockSpec>
  if (typeof value.instruction !== 'string') throw new Error('mock spec has no instruction')
  return parseMockSpec(value.instruction, {
    mock: { delayMs: value.delayMs, edits: value.edits, fail: value.fail, output: value.output, prompt: value.prompt, ask: value.ask },
  })
}
