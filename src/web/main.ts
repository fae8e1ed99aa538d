import '@xterm/xterm/css/xterm.css'
import './style.css'
import { createApi, errorText, socketBase } from './api'
import type { Cockpit, Screen } from './context'
import { h, replace } from './dom'
import { EventSocket } from './events'
import { pairingScreen } from './screens/pair'
import { chatScreen } from './screens/chat'
import { commandsScreen } from './screens/commands'
import { reviewScreen } from './screens/review'
import { tasksScreen } from './screens/tasks'
import { terminalScreen } from './screens/terminal'
import { Store } from './state'
import { forgetStored, loadSession, loadView, saveSession, saveView, takePairingFragment, TABS, type StoredSession, type TabName } from './storage'
import { nonceStyleElements } from './style-nonce'

nonceStyleElements()
const root = document.getElementById('app') ?? document.body

function start(): void {
  const fragment = takePairingFragment()
  if (fragment === 'invalid') return showPairing('That pairing link is incomplete or damaged; copy the whole line the server printed.')
  if (fragment) saveSession(fragment)
  const session = fragment ?? loadSession()
  if (session) cockpit(session)
  else showPairing(null)
}

function showPairing(notice: string | null): void {
  replace(root, pairingScreen({ notice, paired: (session) => (saveSession(session), cockpit(session)) }))
}

function cockpit(session: StoredSession): void {
  const api = createApi(() => session.token)
  const store = new Store()
  const view = loadView()
  let ended = false
  const end = (notice: string | null) => {
    if (ended) return
    ended = true
    events.stop()
    for (const screen of screens) screen.hidden?.()
    forgetStored()
    showPairing(notice)
  }

  const eventsUrl = () => `${socketBase()}/ws/events?sessionId=${encodeURIComponent(session.sessionId)}&token=${encodeURIComponent(session.token)}`
  const events = new EventSocket(eventsUrl, {
    event: (event, live) => {
      store.apply(event, live)
      if (!firstEventMarked) {
        firstEventMarked = true
        performance.mark('cockpit:first-event')
      }
      // A task another client started, or one that changed state: the HTTP view is the truth.
      if (live && event.taskId && (event.type === 'status' || event.type === 'exit')) void refreshTask(String(event.taskId))
    },
    resumed: () => {
      performance.mark('cockpit:events-live')
      void ctx.refreshTasks()
    },
    reply: (frame) => {
      if (frame.type === 'error') notify(`${frame.for ?? 'request'}: ${String(frame.message ?? 'refused')}`)
      if (frame.type === 'error' && frame.for === 'confirmation') {
        // The answer was refused (already answered elsewhere, expired): let the user see and retry.
        for (const items of store.chats.values()) for (const item of items) if (item.kind === 'confirmation' && item.outcome === null) item.sent = false
        store.emit('chat')
      }
    },
    connection: (state) => {
      store.connection = state
      store.emit('connection')
    },
    unauthorized: () => end('The session ended or expired; pair again.'),
  })
  let firstEventMarked = false

  const refreshTask = async (taskId: string) => {
    const { data, error } = await api.api.tasks({ id: taskId }).get()
    if (error?.status === 401) return end('The session ended or expired; pair again.')
    if (data) store.upsertTask(data)
  }

  const ctx: Cockpit = {
    api,
    store,
    session,
    events,
    selectedTaskId: () => view.taskId,
    selectTask: (taskId) => {
      view.taskId = taskId
      saveView(view)
      store.emit('tasks')
    },
    go: (tab, taskId) => {
      if (taskId !== undefined) ctx.selectTask(taskId)
      show(tab)
    },
    refreshTasks: async () => {
      const { data, error } = await api.api.tasks.get()
      if (error?.status === 401) return end('The session ended or expired; pair again.')
      if (error) return notify(errorText(error))
      store.setTasks(data)
      if (view.taskId === null && data[0]) ctx.selectTask(data[0].taskId)
    },
    unauthorized: () => end('The session ended or expired; pair again.'),
  }

  const screens: Screen[] = [tasksScreen(ctx), chatScreen(ctx), terminalScreen(ctx), reviewScreen(ctx), commandsScreen(ctx)]
  const tabs = new Map<TabName, HTMLButtonElement>()
  const status = h('span', { class: 'conn', role: 'status', 'aria-live': 'polite' }, 'connecting')
  const toast = h('p', { class: 'toast', role: 'alert', hidden: true })
  let toastTimer: ReturnType<typeof setTimeout> | undefined
  function notify(message: string) {
    toast.textContent = message
    toast.hidden = false
    clearTimeout(toastTimer)
    toastTimer = setTimeout(() => (toast.hidden = true), 6000)
  }
  store.on('connection', () => {
    status.textContent = store.connection === 'live' ? 'live' : store.connection
    status.dataset.state = store.connection
  })

  const dialog = sessionDialog(session, async () => {
    const { error } = await api.api.session({ id: session.sessionId }).delete()
    // An already ended session (401/404) is forgotten all the same.
    if (error && error.status !== 401 && error.status !== 404) return notify(errorText(error))
    end('Session ended. Pair again to continue.')
  })

  const nav = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Screens' })
  for (const name of TABS) {
    const button = h('button', { type: 'button', role: 'tab', id: `tab-${name}`, 'aria-controls': `screen-${name}`, onclick: () => show(name) }, name)
    button.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
      if (!step) return
      const next = TABS[(TABS.indexOf(name) + step + TABS.length) % TABS.length]!
      show(next)
      tabs.get(next)?.focus()
    })
    tabs.set(name, button)
    nav.append(button)
  }
  const main = h('main')
  for (const screen of screens) {
    screen.el.id = `screen-${screen.name}`
    screen.el.setAttribute('role', 'tabpanel')
    screen.el.setAttribute('aria-labelledby', `tab-${screen.name}`)
    screen.el.hidden = true
    main.append(screen.el)
  }

  let current: Screen | undefined
  function show(name: TabName) {
    const next = screens.find((screen) => screen.name === name)!
    if (current !== next) current?.hidden?.()
    for (const screen of screens) screen.el.hidden = screen !== next
    for (const [tab, button] of tabs) {
      button.setAttribute('aria-selected', String(tab === name))
      button.tabIndex = tab === name ? 0 : -1
    }
    current = next
    view.tab = name
    saveView(view)
    next.shown?.()
  }

  const header = h(
    'header',
    null,
    h('h1', null, 'Cockpit Coder'),
    status,
    h('button', { type: 'button', class: 'secondary', onclick: () => dialog.showModal() }, 'Session'),
  )
  replace(root, header, nav, toast, main, dialog)
  show(view.tab)
  events.start()
  void loadRepo()

  async function loadRepo() {
    const { data, error } = await api.api.session({ id: session.sessionId }).get()
    if (error?.status === 401 || error?.status === 404) return end('The session ended or expired; pair again.')
    if (data) {
      session.repo = data.repo
      saveSession(session)
      dialog.querySelector('.repo')!.textContent = data.repo
      header.title = data.repo
    }
  }
}

function sessionDialog(session: StoredSession, forget: () => Promise<void>): HTMLDialogElement {
  const dialog: HTMLDialogElement = h(
    'dialog',
    { 'aria-labelledby': 'session-title' },
    h('h2', { id: 'session-title' }, 'Session'),
    h('dl', null, h('dt', null, 'Repository'), h('dd', { class: 'repo' }, session.repo ?? ''), h('dt', null, 'Expires'), h('dd', null, new Date(session.expiresAt).toLocaleString())),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'danger', onclick: () => void forget() }, 'Forget this session'),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Close'),
    ),
  )
  return dialog
}

start()
