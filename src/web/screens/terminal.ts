import type { FitAddon } from '@xterm/addon-fit'
import type { Terminal } from '@xterm/xterm'
import { socketBase, type TaskView } from '../api'
import type { Cockpit, Screen } from '../context'
import { h, replace } from '../dom'

const DARK = { background: '#111418', foreground: '#e6e6e6', cursor: '#e6e6e6', selectionBackground: '#3a4a5f' }
const LIGHT = { background: '#fbfbfb', foreground: '#1b1b1b', cursor: '#1b1b1b', selectionBackground: '#c5d7ef' }

/** A print-mode agent runs in a terminal of its own, which `/ws/pty?taskId=` shows; an ACP agent has none. */
function hasTerminal(ctx: Cockpit, task: TaskView): boolean {
  return ctx.store.agents.find((agent) => agent.name === task.agent)?.mode === 'print'
}

/**
 * The session's shell in xterm.js over /ws/pty, or, picked above it, the terminal of a task
 * whose agent runs in print mode (`?taskId=`: its output live, typing answers its prompts, and
 * the whole screen again once it has ended). The shell outlives the socket: after a drop the page
 * reconnects, clears its screen and gets the server's replay of the recent screen back.
 */
export function terminalScreen(ctx: Cockpit): Screen {
  const host = h('div', { class: 'term', 'aria-label': 'Terminal' })
  const state = h('span', { class: 'muted', role: 'status' }, 'offline')
  const restart = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Start a new shell')
  const source = h('select', { id: 'terminal-source', 'aria-label': 'Which terminal' })
  /** The task whose agent terminal is shown; null: the session's shell. */
  let target: string | null = null
  const dark = matchMedia('(prefers-color-scheme: dark)')
  let term: Terminal | null = null
  let fit: FitAddon | null = null
  let socket: WebSocket | null = null
  let visible = false
  let exited = false
  let retryMs = 500
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let observer: ResizeObserver | null = null

  let connects = 0
  // Keystrokes typed before the shell has said anything (connecting, reconnecting, a shell still
  // starting, which flushes typeahead when it sets up its terminal) are kept, bounded, and sent
  // after its first output.
  let pendingInput = ''
  let ready = false
  const send = (frame: Record<string, unknown>) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame))
  }
  const flush = () => {
    if (!pendingInput || socket?.readyState !== WebSocket.OPEN) return
    send({ type: 'input', data: pendingInput })
    pendingInput = ''
  }
  const type = (data: string) => {
    if (ready && socket?.readyState === WebSocket.OPEN) return send({ type: 'input', data })
    if (!exited) pendingInput = (pendingInput + data).slice(-4096)
  }

  const connect = () => {
    if (!term || socket) return
    exited = false
    restart.hidden = true
    state.textContent = 'connecting'
    const { sessionId, token } = ctx.session
    const query = new URLSearchParams({ sessionId, token, cols: String(term.cols), rows: String(term.rows) })
    if (target !== null) query.set('taskId', target)
    const ws = new WebSocket(`${socketBase()}/ws/pty?${query}`)
    socket = ws
    let fresh = true
    let opened = false
    ready = false
    ws.onmessage = (message) => {
      if (typeof message.data !== 'string' || !term) return
      if (fresh) {
        // The server replays the recent screen on every connect; start from a clean one.
        fresh = false
        term.reset()
        ready = true
        flush()
      }
      if (message.data.startsWith('{"type":"exit"')) {
        exited = true
        const code = (JSON.parse(message.data) as { code?: number }).code
        term.write(`\r\n[${target === null ? 'the shell' : 'the agent'} exited with code ${code ?? '?'}]\r\n`)
        return
      }
      term.write(message.data)
    }
    ws.onopen = () => {
      opened = true
      retryMs = 500
      state.textContent = 'connected'
      state.dataset.connects = String(++connects)
      send({ type: 'resize', cols: term!.cols, rows: term!.rows })
    }
    ws.onclose = (close) => {
      if (socket !== ws) return
      socket = null
      if (close.code === 4401 || close.code === 4410) return ctx.unauthorized()
      if (exited) {
        state.textContent = 'exited'
        restart.hidden = target !== null
        return
      }
      const status = ctx.store.task(target)?.status
      if (target !== null && !opened && status !== 'pending' && status !== 'running') {
        // Refused before the upgrade (404) for a task that is not starting: it has no terminal
        // here (it ran before the server restarted); trying again would not change that.
        state.textContent = 'no terminal for this task'
        return
      }
      state.textContent = 'reconnecting'
      if (visible) retryTimer = setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, 10_000)
    }
  }

  const fitNow = () => {
    if (!term || !fit || !visible || host.clientWidth === 0) return
    fit.fit()
  }

  let creating: Promise<void> | null = null
  // xterm.js is most of the page's weight: it is a chunk of its own, loaded when the Terminal opens.
  const create = async () => {
    const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')])
    term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000, theme: dark.matches ? DARK : LIGHT })
    fit = new FitAddon()
    term.loadAddon(fit)
    term.open(host)
    term.onData(type)
    term.onResize(({ cols, rows }) => send({ type: 'resize', cols, rows }))
    dark.addEventListener('change', () => term && (term.options.theme = dark.matches ? DARK : LIGHT))
    observer = new ResizeObserver(() => fitNow())
    observer.observe(host)
  }

  restart.addEventListener('click', () => {
    connect()
    term?.focus()
  })

  /** Leaves the terminal shown now (its socket closes; a shell keeps running) and opens `taskId`'s. */
  const switchTo = (taskId: string | null) => {
    if (taskId === target) return
    target = taskId
    clearTimeout(retryTimer)
    const old = socket
    socket = null
    old?.close()
    exited = false
    pendingInput = ''
    term?.reset()
    if (visible) {
      connect()
      term?.focus()
    }
  }

  let sourcesKey = ''
  const renderSources = () => {
    const tasks = ctx.store.tasks.filter((task) => hasTerminal(ctx, task))
    if (target !== null && !tasks.some((task) => task.taskId === target)) switchTo(null)
    const labels = tasks.map((task) => [task.taskId, `Agent: ${task.agent} · ${task.status} · ${(task.instruction.split('\n')[0] ?? '').slice(0, 50)}`] as const)
    // Statuses change often while agents run: rebuild only when a label did, so an open list stays open.
    const key = JSON.stringify([target, labels])
    if (key === sourcesKey) return
    sourcesKey = key
    replace(source, h('option', { value: '', selected: target === null }, 'Session shell'), ...labels.map(([taskId, label]) => h('option', { value: taskId, selected: taskId === target }, label)))
    source.hidden = tasks.length === 0
  }
  source.addEventListener('change', () => switchTo(source.value || null))
  ctx.store.on('tasks', renderSources)
  ctx.store.on('agents', renderSources)
  renderSources()

  const el = h('section', { class: 'screen terminal' }, h('div', { class: 'row' }, h('h2', null, 'Terminal'), source, state, restart), host)
  return {
    name: 'Terminal',
    el,
    shown: () => {
      visible = true
      creating ??= create()
      void creating.then(() => {
        if (!visible) return
        fitNow()
        connect()
        term?.focus()
      })
    },
    hidden: () => {
      visible = false
      clearTimeout(retryTimer)
    },
  }
}
