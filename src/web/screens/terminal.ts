import type { FitAddon } from '@xterm/addon-fit'
import type { Terminal } from '@xterm/xterm'
import { socketBase } from '../api'
import type { Cockpit, Screen } from '../context'
import { h } from '../dom'

const DARK = { background: '#111418', foreground: '#e6e6e6', cursor: '#e6e6e6', selectionBackground: '#3a4a5f' }
const LIGHT = { background: '#fbfbfb', foreground: '#1b1b1b', cursor: '#1b1b1b', selectionBackground: '#c5d7ef' }

/**
 * The session's shell in xterm.js over /ws/pty. The shell outlives the socket: after a drop the
 * page reconnects, clears its screen and gets the server's replay of the recent screen back.
 */
export function terminalScreen(ctx: Cockpit): Screen {
  const host = h('div', { class: 'term', 'aria-label': 'Terminal' })
  const state = h('span', { class: 'muted', role: 'status' }, 'offline')
  const restart = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Start a new shell')
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
    const ws = new WebSocket(`${socketBase()}/ws/pty?${query}`)
    socket = ws
    let fresh = true
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
        term.write(`\r\n[the shell exited with code ${code ?? '?'}]\r\n`)
        return
      }
      term.write(message.data)
    }
    ws.onopen = () => {
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
        restart.hidden = false
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

  const el = h('section', { class: 'screen terminal' }, h('div', { class: 'row' }, h('h2', null, 'Terminal'), state, restart), host)
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
