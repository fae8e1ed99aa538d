import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as acp from '@agentclientprotocol/sdk'
import { applyMockEdit, defaultMockEdit, mockWorkSteps } from './mock-work'
import type { MockSpec } from './mock-spec'

/** Progress goes to stderr: ACP owns stdout, and the task layer streams stderr as `output`. */
const log = (text: string) => void process.stderr.write(`[mock] ${text}\n`)

type Turn = { cancelled: boolean; wake: () => void }

/**
 * The mock keeps its session (the turn count) in the workspace's .git directory, never part of a
 * diff and removed with the workspace, so a restarted mock can offer session/load and continue.
 */
function sessionFile(cwd: string): string | null {
  const dir = join(cwd, '.git')
  return existsSync(dir) && statSync(dir).isDirectory() ? join(dir, 'cockpit-mock-session.json') : null
}

function text(content: string): acp.ContentBlock {
  return { type: 'text', text: content }
}

function promptText(prompt: readonly acp.ContentBlock[]): string {
  return prompt.map((block) => (block.type === 'text' ? block.text : '')).join('')
}

/** Sleeps `ms`, or less when the turn is cancelled (session/cancel wakes it). */
function pause(turn: Turn, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    turn.wake = () => {
      clearTimeout(timer)
      resolve()
    }
  })
}

/**
 * The mock agent over ACP: the same deterministic script as in print mode (context.mock), but as a
 * conversation. The first prompt does the scripted work (asking permission first when `ask` is
 * set); each later prompt answers `turn N: "<text>"`. Offline, no model, one process per task.
 */
export async function runMockAcpAgent(spec: MockSpec): Promise<number> {
  const cwd = process.cwd()
  const saved = sessionFile(cwd)
  let sessionId: string | null = null
  let turns = 0
  const remember = () => {
    if (saved !== null && sessionId !== null) writeFileSync(saved, JSON.stringify({ sessionId, turns }))
  }
  let current: Turn | null = null

  const say = (client: acp.AgentContext, id: string, content: string) =>
    client.notify('session/update', { sessionId: id, update: { sessionUpdate: 'agent_message_chunk', content: text(content) } })

  async function firstTurn(client: acp.AgentContext, id: string, turn: Turn): Promise<acp.StopReason> {
    log(`instruction: ${spec.instruction}`)
    for (const [step, steps, ms] of mockWorkSteps(spec.delayMs)) {
      await pause(turn, ms)
      if (turn.cancelled) return 'cancelled'
      log(`working… ${step}/${steps}`)
    }
    const files = spec.edits === null ? [] : spec.edits.map((edit) => edit.file)
    for (let asked = 0; spec.ask !== null && asked < spec.ask.repeat; asked++) {
      const kind = spec.ask.kind
      const request: acp.RequestPermissionRequest = {
        sessionId: id,
        toolCall: {
          toolCallId: `ask-${crypto.randomUUID()}`,
          title: spec.ask.title,
          kind,
          status: 'pending',
          ...(spec.ask.command !== null ? { rawInput: { command: spec.ask.command } } : {}),
          ...(kind === 'edit' ? { locations: files.map((file) => ({ path: `${cwd}/${file}` })) } : {}),
        },
        options: [
          { optionId: 'allow_once', name: 'Allow', kind: 'allow_once' },
          { optionId: 'allow_always', name: 'Always allow', kind: 'allow_always' },
          { optionId: 'reject_once', name: 'Reject', kind: 'reject_once' },
        ],
      }
      const askedAt = performance.now()
      const response = await client.request('session/request_permission', request)
      if (spec.ask.repeat > 1) log(`approval round trip ${(performance.now() - askedAt).toFixed(3)} ms`)
      if (turn.cancelled || response.outcome.outcome === 'cancelled') return 'cancelled'
      if (!response.outcome.optionId.startsWith('allow')) {
        await say(client, id, `Permission refused (${spec.ask.title}): made no edits.`)
        return 'end_turn'
      }
    }
    if (spec.fail) throw acp.RequestError.internalError(undefined, `mock agent failed: ${spec.output ?? 'failure requested by context.mock.fail'}`)
    const toolCallId = `edit-${crypto.randomUUID()}`
    const planned = spec.edits === null ? ['COCKPIT_MOCK.md'] : files
    await client.notify('session/update', {
      sessionId: id,
      update: { sessionUpdate: 'tool_call', toolCallId, title: `Edit ${planned.join(', ')}`, kind: 'edit', status: 'in_progress', locations: planned.map((file) => ({ path: `${cwd}/${file}` })) },
    })
    const changed = spec.edits === null ? [defaultMockEdit(cwd, spec.instruction)] : spec.edits.map((edit) => (applyMockEdit(cwd, edit.file, edit.content), edit.file))
    await client.notify('session/update', { sessionId: id, update: { sessionUpdate: 'tool_call_update', toolCallId, status: 'completed' } })
    for (const file of changed) log(`edited ${file}`)
    const summary = `Done, ${changed.length} file(s) changed: ${changed.join(', ')}.`
    await say(client, id, spec.output === null ? summary : `${spec.output}\n${summary}`)
    return 'end_turn'
  }

  const app = acp
    .agent({ name: 'cockpit-coder-mock' })
    .onRequest('initialize', () => ({
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: { loadSession: saved !== null },
      agentInfo: { name: 'cockpit-coder-mock', version: '1' },
    }))
    .onRequest('session/new', () => {
      if (sessionId !== null) throw acp.RequestError.invalidRequest(undefined, 'the mock agent has one session per process')
      sessionId = `mock-${crypto.randomUUID()}`
      remember()
      return { sessionId }
    })
    .onRequest('session/load', ({ params }) => {
      const state = saved !== null && existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as { sessionId: string; turns: number }) : null
      if (state === null || state.sessionId !== params.sessionId) throw acp.RequestError.resourceNotFound(params.sessionId)
      sessionId = state.sessionId
      turns = state.turns
      return {}
    })
    .onRequest('session/prompt', async ({ params, client }) => {
      if (params.sessionId !== sessionId) throw acp.RequestError.invalidParams(undefined, `unknown session ${params.sessionId}`)
      if (current !== null) throw acp.RequestError.invalidRequest(undefined, 'a turn is already running')
      const turn: Turn = { cancelled: false, wake: () => {} }
      current = turn
      turns++
      remember()
      try {
        if (turns === 1) return { stopReason: await firstTurn(client, sessionId, turn) }
        await say(client, sessionId, `turn ${turns}: "${promptText(params.prompt)}"`)
        return { stopReason: turn.cancelled ? 'cancelled' : 'end_turn' }
      } finally {
        current = null
      }
    })
    .onNotification('session/cancel', () => {
      if (current === null) return
      current.cancelled = true
      current.wake()
    })

  // Loaded here: a static import of node:stream would load it on every start of the server too (one bundle).
  const { Readable, Writable } = await import('node:stream')
  const connection = app.connect(
    acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>),
  )
  await connection.closed
  return 0
}
