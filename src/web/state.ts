import type { AgentView, CommandView, TaskView } from './api'
import { stripAnsi } from './dom'
import type { ServerEvent } from './events'

/** One line of a task's conversation, built from its events (CONTRACT.md "Agents and conversations"). */
export type ChatItem =
  | { kind: 'message'; id: string; role: 'agent' | 'user'; content: string; ts: string }
  | { kind: 'tool'; id: string; title: string; toolKind: string; status: string }
  | {
      kind: 'confirmation'
      id: string
      content: string
      options: { optionId: string; name: string; kind: string }[]
      outcome: string | null
      by: string | null
      sent: boolean
    }
  | { kind: 'output'; id: string; text: string }
  | { kind: 'note'; id: string; text: string; tone: 'status' | 'error' }

/** One message of GET /api/tasks/{id}/messages. */
export type TranscriptMessage = { messageId: string; role: 'agent' | 'user'; content: string; ts: string }

/**
 * The id the server gives a task's instruction in a transcript that has no messages of its own yet
 * (a print-mode task, an ACP task before its run echoed the instruction; src/tasks/service.ts).
 * The page is built into the same binary as the server, so the two cannot drift apart.
 */
export function instructionMessageId(taskId: string): string {
  return `instruction-${taskId}`
}

export type CommandRun = { cmdId: string; cmd: string; output: string; view: CommandView | null; error: string | null }

export type Topic = 'tasks' | 'chat' | 'commands' | 'agents' | 'connection' | 'patch'

/** Kept per task and per command so a busy agent cannot grow the page without bound. */
const MAX_OUTPUT_CHARS = 64 * 1024
const MAX_CHAT_ITEMS = 500
const MAX_COMMAND_RUNS = 20

function tail(text: string): string {
  return text.length > MAX_OUTPUT_CHARS ? text.slice(text.length - MAX_OUTPUT_CHARS) : text
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

export class Store {
  tasks: TaskView[] = []
  agents: AgentView[] = []
  allowlist: string[] = []
  connection: 'connecting' | 'live' | 'offline' = 'connecting'
  readonly chats = new Map<string, ChatItem[]>()
  readonly commands: CommandRun[] = []
  private readonly commandOutput = new Map<string, string>()
  private readonly listeners = new Map<Topic, Set<() => void>>()

  on(topic: Topic, listener: () => void): void {
    let set = this.listeners.get(topic)
    if (!set) this.listeners.set(topic, (set = new Set()))
    set.add(listener)
  }

  emit(topic: Topic): void {
    for (const listener of this.listeners.get(topic) ?? []) listener()
  }

  task(id: string | null): TaskView | undefined {
    return id === null ? undefined : this.tasks.find((task) => task.taskId === id)
  }

  setTasks(tasks: TaskView[]): void {
    this.tasks = tasks
    this.emit('tasks')
  }

  upsertTask(task: TaskView): void {
    const index = this.tasks.findIndex((known) => known.taskId === task.taskId)
    if (index === -1) this.tasks.unshift(task)
    else this.tasks[index] = task
    this.emit('tasks')
  }

  chat(taskId: string): ChatItem[] {
    let items = this.chats.get(taskId)
    if (!items) this.chats.set(taskId, (items = []))
    return items
  }

  /** Applies one event; `live` says whether task statuses may be taken from it (replayed ones are old). */
  apply(event: ServerEvent, live: boolean): void {
    const taskId = typeof event.taskId === 'string' ? event.taskId : null
    if (typeof event.cmdId === 'string') return this.commandEvent(event)
    if (!taskId) return
    const items = this.chat(taskId)
    const id = String(event.seq)
    switch (event.type) {
      case 'message': {
        const messageId = text(event.messageId) || id
        const existing = items.find((item) => item.kind === 'message' && item.id === messageId)
        const content = text(event.content)
        const role = event.role === 'user' ? 'user' : 'agent'
        if (existing?.kind === 'message') existing.content = content.startsWith(existing.content) ? content : existing.content + content
        else if (!this.claimInstruction(items, taskId, role, content, messageId)) items.push({ kind: 'message', id: messageId, role, content, ts: event.ts })
        break
      }
      case 'tool': {
        const toolCallId = text(event.toolCallId) || id
        const existing = items.find((item) => item.kind === 'tool' && item.id === toolCallId)
        const update = { title: text(event.title) || (existing?.kind === 'tool' ? existing.title : 'tool call'), toolKind: text(event.kind), status: text(event.status) }
        if (existing?.kind === 'tool') Object.assign(existing, update)
        else items.push({ kind: 'tool', id: toolCallId, ...update })
        break
      }
      case 'confirmation': {
        const options = Array.isArray(event.options) ? (event.options as { optionId: string; name: string; kind: string }[]) : []
        const messageId = text(event.messageId) || id
        if (!items.some((item) => item.kind === 'confirmation' && item.id === messageId)) {
          items.push({ kind: 'confirmation', id: messageId, content: text(event.content), options, outcome: null, by: null, sent: false })
        }
        break
      }
      case 'confirmation_resolved': {
        const item = items.find((candidate) => candidate.kind === 'confirmation' && candidate.id === event.messageId)
        if (item?.kind === 'confirmation') {
          item.outcome = text(event.outcome)
          item.by = text(event.by)
        }
        break
      }
      case 'output': {
        const last = items.at(-1)
        if (last?.kind === 'output') last.text = tail(last.text + stripAnsi(text(event.data)))
        else items.push({ kind: 'output', id, text: tail(stripAnsi(text(event.data))) })
        break
      }
      case 'status': {
        const line = `${text(event.status)}${event.phase ? ` (${text(event.phase)})` : ''}`
        const last = items.at(-1)
        if (!(last?.kind === 'note' && last.text === line)) items.push({ kind: 'note', id, text: line, tone: 'status' })
        if (live) this.liveStatus(taskId, text(event.status), typeof event.phase === 'string' ? event.phase : undefined)
        break
      }
      case 'error':
        items.push({ kind: 'note', id, text: text(event.message), tone: 'error' })
        break
      case 'patch':
        if (live) {
          const task = this.task(taskId)
          if (task && typeof event.count === 'number') this.upsertTask({ ...task, patchCount: event.count })
          this.emit('patch')
        }
        return
      default:
        return
    }
    if (items.length > MAX_CHAT_ITEMS) items.splice(0, items.length - MAX_CHAT_ITEMS)
    this.emit('chat')
  }

  /**
   * Merges a task's transcript (GET /api/tasks/{id}/messages) into the chat its events built:
   * messages the page already has stay where they are (same messageId, events and transcript
   * share it), missing ones go in transcript order before the next message the page has, so
   * nothing shows twice whether an event came before or after the transcript was read.
   */
  mergeTranscript(taskId: string, messages: readonly TranscriptMessage[]): void {
    const items = this.chat(taskId)
    const merged: ChatItem[] = []
    let next = 0
    for (const message of messages) {
      const at = items.findIndex((item, index) => index >= next && item.kind === 'message' && item.id === message.messageId)
      if (at !== -1) {
        merged.push(...items.slice(next, at + 1))
        next = at + 1
        continue
      }
      if (items.some((item) => item.kind === 'message' && item.id === message.messageId)) continue
      // The instruction read before the run echoed it, while its echo already came as an event.
      if (message.messageId === instructionMessageId(taskId) && items.some((item) => item.kind === 'message' && item.role === 'user' && item.content === message.content)) continue
      merged.push({ kind: 'message', id: message.messageId, role: message.role, content: message.content, ts: message.ts })
    }
    merged.push(...items.slice(next))
    items.splice(0, items.length, ...merged.slice(-MAX_CHAT_ITEMS))
    this.emit('chat')
  }

  /**
   * The echo of the instruction as an event, when the transcript (read before the run started)
   * gave it the placeholder id: the one item takes the event's id instead of a second one.
   */
  private claimInstruction(items: ChatItem[], taskId: string, role: 'agent' | 'user', content: string, messageId: string): boolean {
    if (role !== 'user') return false
    const placeholder = items.find((item) => item.kind === 'message' && item.id === instructionMessageId(taskId))
    if (placeholder?.kind !== 'message' || placeholder.content !== content) return false
    placeholder.id = messageId
    return true
  }

  private liveStatus(taskId: string, status: string, phase: string | undefined): void {
    const task = this.task(taskId)
    if (!task) return
    const known = ['pending', 'running', 'completed', 'failed', 'cancelled', 'applied'] as const
    const next = known.find((name) => name === status)
    if (next) this.upsertTask({ ...task, status: next, phase: phase as TaskView['phase'] })
  }

  addCommand(cmdId: string, cmd: string): CommandRun {
    const run: CommandRun = { cmdId, cmd, output: this.commandOutput.get(cmdId) ?? '', view: null, error: null }
    this.commands.unshift(run)
    if (this.commands.length > MAX_COMMAND_RUNS) this.commands.length = MAX_COMMAND_RUNS
    this.emit('commands')
    return run
  }

  private commandEvent(event: ServerEvent): void {
    const cmdId = String(event.cmdId)
    // Output may arrive before POST /api/cmd has answered with the id, so it is kept by id.
    if (event.type === 'output') {
      const output = tail((this.commandOutput.get(cmdId) ?? '') + stripAnsi(text(event.data)))
      this.commandOutput.set(cmdId, output)
      if (this.commandOutput.size > MAX_COMMAND_RUNS * 2) this.commandOutput.delete(this.commandOutput.keys().next().value as string)
      const run = this.commands.find((candidate) => candidate.cmdId === cmdId)
      if (run) run.output = output
    }
    this.emit('commands')
    if (event.type === 'exit') this.commandExited?.(cmdId)
  }

  /** Set by the Commands screen: fetches the final command (its kept output and exit code). */
  commandExited: ((cmdId: string) => void) | undefined
}
