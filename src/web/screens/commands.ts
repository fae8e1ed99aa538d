import { errorText } from '../api'
import type { Cockpit, Screen } from '../context'
import { h, replace } from '../dom'
import type { CommandRun } from '../state'

/** The allowlist, a command line to run, and each run's output as it streams. */
export function commandsScreen(ctx: Cockpit): Screen {
  const { api, store } = ctx
  const allowed = h('ul', { class: 'allowlist', 'aria-label': 'Allowed commands' })
  const input = h('input', { id: 'cmd-input', type: 'text', spellcheck: 'false', 'aria-label': 'Command', placeholder: 'npm test' })
  const run = h('button', { type: 'submit' }, 'Run')
  const message = h('p', { class: 'error', role: 'alert' })
  const runs = h('div', { class: 'runs' })
  const form = h('form', { class: 'composer' }, input, run)

  const renderAllowlist = () => {
    if (store.allowlist.length === 0) return replace(allowed, h('li', { class: 'muted' }, 'No commands are allowed (CMD_ALLOWLIST is empty).'))
    replace(
      allowed,
      ...store.allowlist.map((entry) => {
        const fixed = entry.endsWith(' *') ? `${entry.slice(0, -2)} ` : entry
        return h('li', null, h('button', { type: 'button', class: 'secondary', onclick: () => ((input.value = fixed), input.focus()) }, entry))
      }),
    )
  }

  const runView = (item: CommandRun) => {
    const view = item.view
    const state = item.error ?? (view ? (view.status === 'running' ? 'running' : `exit ${view.code ?? '?'}${view.timedOut ? ' (timed out)' : ''} · ${Math.round(view.durationMs)} ms`) : 'running')
    return h(
      'section',
      { class: 'run', 'data-cmd-id': item.cmdId },
      h('h3', null, h('code', null, item.cmd), ' ', h('span', { class: `badge ${view && view.status !== 'running' ? (view.ok ? 'completed' : 'failed') : 'running'}` }, state)),
      h('pre', { class: 'output' }, view && view.status !== 'running' ? view.output : item.output),
      view?.truncated ? h('p', { class: 'muted' }, 'The start of the output was dropped; the tail is kept.') : null,
    )
  }
  const renderRuns = () => replace(runs, ...store.commands.map(runView))

  store.commandExited = async (cmdId) => {
    const item = store.commands.find((candidate) => candidate.cmdId === cmdId)
    if (!item) return
    const { data, error } = await api.api.cmd({ id: cmdId }).get()
    if (data) item.view = data
    else item.error = errorText(error)
    store.emit('commands')
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const cmd = input.value.trim()
    if (!cmd) return
    message.textContent = ''
    run.disabled = true
    const { data, error } = await api.api.cmd.post({ cmd })
    run.disabled = false
    if (error?.status === 401) return ctx.unauthorized()
    if (error) return void (message.textContent = errorText(error))
    if (!('cmdId' in data)) return
    const item = store.addCommand(data.cmdId, cmd)
    // The exit event may have come before this answer: ask once for the command's state.
    const now = await api.api.cmd({ id: data.cmdId }).get()
    if (now.data && now.data.status !== 'running') {
      item.view = now.data
      store.emit('commands')
    }
  })

  const load = async () => {
    const { data, error } = await api.api.cmd.allowlist.get()
    if (error?.status === 401) return ctx.unauthorized()
    if (error) return void (message.textContent = errorText(error))
    store.allowlist = data.allowlist
    renderAllowlist()
  }
  store.on('commands', renderRuns)
  renderAllowlist()
  void load()

  const el = h('section', { class: 'screen commands' }, h('h2', null, 'Commands'), h('h3', null, 'Allowed'), allowed, form, message, runs)
  const fine = matchMedia('(pointer: fine)')
  return { name: 'Commands', el, shown: () => fine.matches && input.focus({ preventScroll: true }) }
}
