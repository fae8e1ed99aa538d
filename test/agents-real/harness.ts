import { expect } from 'bun:test'
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { FilePatch } from '../../src/git'
import { gitCli } from '../fixtures/app'
import { startBinary } from '../fixtures/binary'

/**
 * The compiled server, started as a user would, with the real agent CLIs on its PATH and only the
 * variables a test gives it (a clean environment: HOME is the run's temp dir, nothing from the
 * developer's machine). Agents reach only the scripted model API on 127.0.0.1.
 */
export type TaskView = { taskId: string; status: string; phase?: string; error?: string; exitCode?: number; patchCount: number; agent: string }

/** Real CLIs start slowly on a loaded 2-core machine (opencode takes a minute): generous bounds. */
export const REAL_AGENT_TEST_MS = 420_000
const TASK_WAIT_MS = 360_000

const PRINT_MODE = { AGENT_CLAUDE_MODE: 'print', AGENT_CODEX_MODE: 'print', AGENT_GEMINI_MODE: 'print', AGENT_OPENCODE_MODE: 'print', AGENT_CLINE_MODE: 'print' }

export async function startRealCockpit(binDir: string, env: Record<string, string> = {}) {
  const server = await startBinary({
    // These are the print-mode checks: with the ACP entry points on PATH, auto mode would run them over ACP.
    env: { PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`, TASK_TIMEOUT_SECONDS: '400', LOG_LEVEL: 'warn', ...PRINT_MODE, ...env },
  })
  try {
    const session = await server.pair()
    const headers = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }
    const api = async <T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<{ status: number; body: T }> => {
      const response = await fetch(`${server.baseUrl}${path}`, {
        method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
        headers,
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      })
      return { status: response.status, body: (await response.json()) as T }
    }
    return {
      server,
      session,
      /** The server's (and so every agent's) HOME. */
      home: server.dir,
      repo: server.repo,
      api,
      /** Writes a file under the server's HOME (an agent's own settings, as a user would have them). */
      writeHomeFile(path: string, content: string): void {
        const file = join(server.dir, path)
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, content)
      },
      async startTask(agent: string, instruction: string): Promise<string> {
        const { status, body } = await api<{ taskId: string }>('/api/tasks', { json: { agent, instruction } })
        expect(status).toBe(202)
        return body.taskId
      },
      /** The task's workspace directory (where the agent runs), once the server made it. */
      async workspaceOf(taskId: string): Promise<string> {
        // STATE_DIR/workspaces/<sessionId>/<taskId> (src/tasks/workspaces.ts)
        const dir = join(server.dir, 'state', 'workspaces', session.sessionId, taskId)
        const deadline = Date.now() + 60_000
        for (;;) {
          if (existsSync(dir)) return realpathSync(dir)
          if (Date.now() > deadline) throw new Error(`no workspace ${dir}`)
          await Bun.sleep(100)
        }
      },
      async waitFor(taskId: string, done: (task: TaskView) => boolean, timeoutMs = TASK_WAIT_MS): Promise<TaskView> {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const { body: task } = await api<TaskView>(`/api/tasks/${taskId}`)
          if (done(task)) return task
          if (Date.now() > deadline) throw new Error(`task ${taskId} never got there: ${JSON.stringify(task)}`)
          await Bun.sleep(250)
        }
      },
      async ended(taskId: string): Promise<TaskView> {
        return this.waitFor(taskId, (task) => ['completed', 'failed', 'cancelled'].includes(task.status))
      },
      async patches(taskId: string): Promise<FilePatch[]> {
        return (await api<{ patches: FilePatch[] }>(`/api/tasks/${taskId}/patches`)).body.patches
      },
      /** Applies every patch with a commit; returns the SHA after checking it is what `git log` shows. */
      async applyAndCommit(taskId: string, message: string): Promise<string> {
        const { status, body } = await api<{ ok: boolean; commit: string }>(`/api/tasks/${taskId}/apply`, { json: { commitMessage: message } })
        expect(status).toBe(200)
        expect(gitCli(server.repo, 'log', '-1', '--format=%H %s').trim()).toBe(`${body.commit} ${message}`)
        return body.commit
      },
      /** Types a chat message into the running task over /ws/events, as the app does. */
      async sendUserMessage(taskId: string, content: string): Promise<void> {
        const url = `${session.ws.events}${session.ws.events.includes('?') ? '&' : '?'}token=${session.token}`
        const socket = new WebSocket(url.includes('sessionId=') ? url : `${url}&sessionId=${session.sessionId}`)
        try {
          await new Promise<void>((resolve, reject) => {
            socket.onerror = () => reject(new Error('events socket failed'))
            socket.onmessage = (message) => {
              const frame = JSON.parse(String(message.data)) as { type: string; for?: string; taskId?: string }
              if (frame.type === 'resume') socket.send(JSON.stringify({ type: 'user_message', content, taskId }))
              if (frame.type === 'ack' && frame.for === 'user_message') {
                expect(frame.taskId).toBe(taskId)
                resolve()
              }
              if (frame.type === 'error') reject(new Error(`user_message refused: ${String(message.data)}`))
            }
          })
        } finally {
          socket.close()
        }
      },
      async [Symbol.asyncDispose]() {
        await server[Symbol.asyncDispose]()
      },
    }
  } catch (error) {
    await server[Symbol.asyncDispose]()
    throw error
  }
}

export type RealCockpit = Awaited<ReturnType<typeof startRealCockpit>>

/** The text of every request body the scripted API got, for "the model saw it" assertions. */
export function bodiesText(requests: readonly { body: unknown }[]): string {
  return requests.map((request) => JSON.stringify(request.body)).join('\n')
}

type ConversationServer = Awaited<ReturnType<typeof import('../e2e/conversation-client').conversationServer>>

/**
 * The conversation cline and gemini over ACP both go through, their scripted model asking for
 * `touch rejected.txt`, saying 'The command was refused.', then asking for `touch allowed.txt` and
 * saying 'Made allowed.txt.': the first command is rejected from the phone and does not run, the
 * follow-up's is allowed and runs, and the agent's text arrives as messages. Answers the task's id.
 */
export async function rejectThenAllow(s: ConversationServer, agent: string): Promise<string> {
  const taskId = await s.start({ instruction: 'Make rejected.txt with touch', agent })
  const workspace = join(s.server.dir, 'state', 'workspaces', s.pairing.sessionId, taskId)
  const first = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId, REAL_AGENT_TEST_MS)
  expect(first.content).toBe(`${agent} wants to run: touch rejected.txt`)
  expect(first.tool).toMatchObject({ kind: 'execute', command: 'touch rejected.txt' })
  expect((first.options as { kind: string }[]).map((o) => o.kind).sort()).toEqual(['allow_always', 'allow_once', 'reject_once'])
  s.events.send({ type: 'confirmation', messageId: first.messageId, confirmed: false })
  const completed = await s.status(taskId, 'completed')
  expect(s.events.of(taskId, 'confirmation_resolved')).toMatchObject([{ messageId: first.messageId, outcome: 'rejected', by: 'client' }])
  expect(existsSync(join(workspace, 'rejected.txt'))).toBe(false)
  expect((await s.api<{ patches: unknown[] }>(`/api/tasks/${taskId}/patches`)).body.patches).toEqual([])
  expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('The command was refused.'))).toBe(true)

  s.events.send({ type: 'user_message', content: 'Now make allowed.txt', taskId })
  const second = await s.events.next((f) => f.type === 'confirmation' && f.taskId === taskId && f.messageId !== first.messageId, REAL_AGENT_TEST_MS)
  expect(second.content).toBe(`${agent} wants to run: touch allowed.txt`)
  s.events.send({ type: 'confirmation', messageId: second.messageId, confirmed: true })
  await s.status(taskId, 'completed', undefined, completed.seq)
  expect(existsSync(join(workspace, 'allowed.txt'))).toBe(true)
  expect(existsSync(join(workspace, 'rejected.txt'))).toBe(false)
  const patches = await s.api<{ patches: { file: string }[] }>(`/api/tasks/${taskId}/patches`)
  expect(patches.body.patches.map((p) => p.file)).toEqual(['allowed.txt'])
  expect(s.events.of(taskId, 'message').some((m) => m.role === 'agent' && String(m.content).includes('Made allowed.txt.'))).toBe(true)
  return taskId
}
