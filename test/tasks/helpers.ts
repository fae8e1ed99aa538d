import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AgentRegistryOptions } from '../../src/agents'
import type { BusEvent } from '../../src/events'
import type { Session } from '../../src/session'
import type { TaskServiceOptions, TaskView } from '../../src/tasks'
import { makeTestApp, type TestAppOptions } from '../fixtures/app'

export type TaskAppOptions = TestAppOptions & {
  tasks?: Partial<Omit<TaskServiceOptions, 'events' | 'agents'>>
  agents?: Partial<AgentRegistryOptions>
}

/**
 * The whole app (createServices with test-sized task limits, swapped through its overrides) on
 * the fixture's temp dirs. Every event of the session is recorded in `events`.
 */
export async function makeTaskApp(options: TaskAppOptions = {}) {
  const t = await makeTestApp({
    ...options,
    services: {
      ...options.services,
      tasks: { taskTimeoutMs: 30_000, scrollbackBytes: 64 * 1024, workspaceMaxBytes: 1024 * 1024 * 1024, ...options.tasks },
      agents: options.agents,
    },
  })
  const { services, app } = t
  const { agents, tasks } = services
  const events: BusEvent[] = []
  services.events.forSession(t.sessionId).subscribe((event) => events.push(event))
  const session = services.sessions.get(t.sessionId)!

  return {
    ...t,
    agents,
    tasks,
    session: session as Session,
    events,
    request(path: string, init: { method?: string; json?: unknown; token?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
      const headers = new Headers()
      if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? t.token}`)
      if (init.json !== undefined) headers.set('content-type', 'application/json')
      for (const [name, value] of Object.entries(init.headers ?? {})) headers.set(name, value)
      const body = init.json === undefined ? undefined : JSON.stringify(init.json)
      return app.handle(new Request(`http://localhost${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body }))
    },
    /** Starts a task over HTTP and returns its 202 body. */
    async start(json: Record<string, unknown>): Promise<TaskView> {
      const response = await this.request('/api/tasks', { json })
      if (response.status !== 202) throw new Error(`POST /api/tasks answered ${response.status}: ${await response.text()}`)
      return (await response.json()) as TaskView
    },
    /** Polls GET /api/tasks/:id until the status is one of `statuses`. */
    async waitFor(taskId: string, statuses: string[], timeoutMs = 15_000): Promise<TaskView> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const task = (await (await this.request(`/api/tasks/${taskId}`)).json()) as TaskView
        if (statuses.includes(task.status)) return task
        if (Date.now() > deadline) throw new Error(`task ${taskId} is still ${task.status}: ${JSON.stringify(task)}`)
        await Bun.sleep(25)
      }
    },
    workspaceOf(taskId: string): string {
      return join(t.config.stateDir, "workspaces", t.sessionId, taskId)
    },
    async [Symbol.asyncDispose]() {
      await t[Symbol.asyncDispose]()
    },
  }
}

export type TaskApp = Awaited<ReturnType<typeof makeTaskApp>>

export async function json<T = Record<string, unknown>>(response: Response): Promise<{ status: number; body: T }> {
  return { status: response.status, body: (await response.json()) as T }
}

/** Live (not zombie) processes whose command line contains `text`, read from /proc. */
export function processesWith(text: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return pids
}

/** Waits (sleeping) until `check` holds or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(check: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await check()
  while (!done(value) && Date.now() < deadline) {
    await Bun.sleep(25)
    value = await check()
  }
  return value
}

/** A bin directory with a copy of one fake agent CLI from test/fixtures/fake-agents. */
export function fakeAgentBin(root: string, name: string): string {
  const bin = join(root, 'fake-bin')
  mkdirSync(bin, { recursive: true })
  copyFileSync(join(import.meta.dir, '..', 'fixtures', 'fake-agents', name), join(bin, name))
  chmodSync(join(bin, name), 0o755)
  return bin
}

export function fiftyLines(): string {
  return Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n'
}
