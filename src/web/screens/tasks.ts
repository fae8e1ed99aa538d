import { errorText, type TaskView } from '../api'
import type { Cockpit, Screen } from '../context'
import { h, replace, shortTime } from '../dom'

const ACTIVE = new Set(['pending', 'running'])

/** Start a task (agent picker, instruction, optional context JSON) and watch every task's status. */
export function tasksScreen(ctx: Cockpit): Screen {
  const { api, store } = ctx
  const agent = h('select', { id: 'task-agent' })
  const instruction = h('textarea', { id: 'task-instruction', rows: 3, required: true, placeholder: 'What should the agent do?' })
  const context = h('textarea', { id: 'task-context', rows: 4, spellcheck: 'false', placeholder: '{"mock": {"edits": [{"file": "a.txt", "content": "hi\\n"}]}}' })
  const message = h('p', { class: 'error', role: 'alert' })
  const submit = h('button', { type: 'submit' }, 'Start task')
  const list = h('ul', { class: 'task-list', 'aria-label': 'Tasks' })

  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Start a task' },
    h('label', { for: 'task-agent' }, 'Agent'),
    agent,
    h('label', { for: 'task-instruction' }, 'Instruction'),
    instruction,
    h('details', null, h('summary', null, 'Context (JSON, optional)'), context),
    h('div', { class: 'row' }, submit, h('span', { class: 'hint' }, 'Enter starts, Shift+Enter for a new line')),
    message,
  )

  const start = async () => {
    message.textContent = ''
    let parsed: unknown
    if (context.value.trim()) {
      try {
        parsed = JSON.parse(context.value)
      } catch {
        message.textContent = 'Context is not valid JSON.'
        return context.focus()
      }
    }
    if (!instruction.value.trim()) {
      message.textContent = 'Write an instruction first.'
      return instruction.focus()
    }
    submit.disabled = true
    const { data, error } = await api.api.tasks.post({ instruction: instruction.value, agent: agent.value || undefined, context: parsed })
    submit.disabled = false
    if (error?.status === 401) return ctx.unauthorized()
    if (error) return void (message.textContent = errorText(error))
    instruction.value = ''
    store.upsertTask(data)
    ctx.selectTask(data.taskId)
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void start()
  })
  instruction.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      void start()
    }
  })

  const renderAgents = () => {
    const options = store.agents.map((info) =>
      h('option', { value: info.name, disabled: !info.available, title: info.description }, info.available ? info.name : `${info.name} (not installed)`),
    )
    replace(agent, ...options)
    const preferred = store.agents.find((info) => info.available && info.name === 'mock') ?? store.agents.find((info) => info.available)
    if (preferred) agent.value = preferred.name
  }

  const taskRow = (task: TaskView) => {
    const selected = ctx.selectedTaskId() === task.taskId
    const cancel = async () => {
      const { error } = await api.api.tasks({ id: task.taskId }).cancel.post()
      if (error) message.textContent = errorText(error)
    }
    return h(
      'li',
      { class: selected ? 'task selected' : 'task', 'data-task-id': task.taskId, 'data-status': task.status },
      h(
        'div',
        { class: 'task-head' },
        h('span', { class: `badge ${task.status}` }, task.phase && ACTIVE.has(task.status) ? `${task.status}: ${task.phase}` : task.status),
        h('span', { class: 'muted' }, `${task.agent} · ${shortTime(task.createdAt)}`),
        task.patchCount > 0 ? h('span', { class: 'muted' }, `${task.patchCount} file${task.patchCount === 1 ? '' : 's'} changed`) : null,
      ),
      h('p', { class: 'instruction' }, task.instruction.split('\n')[0] ?? ''),
      task.error ? h('p', { class: 'error' }, task.error) : null,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go('Chat', task.taskId) }, 'Chat'),
        h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go('Review', task.taskId) }, 'Review'),
        ACTIVE.has(task.status) ? h('button', { type: 'button', class: 'secondary', onclick: () => void cancel() }, 'Cancel') : null,
      ),
    )
  }
  // Rows are rebuilt only when their task changed, so a button is not swapped under a finger.
  let rows = new Map<string, { key: string; el: HTMLElement }>()
  const renderTasks = () => {
    if (store.tasks.length === 0) return replace(list, h('li', { class: 'muted' }, 'No tasks yet.'))
    const next = new Map<string, { key: string; el: HTMLElement }>()
    for (const task of store.tasks) {
      const key = `${ctx.selectedTaskId() === task.taskId}\n${JSON.stringify(task)}`
      const known = rows.get(task.taskId)
      next.set(task.taskId, known?.key === key ? known : { key, el: taskRow(task) })
    }
    rows = next
    const wanted = [...next.values()].map((row) => row.el)
    if (wanted.length !== list.children.length || wanted.some((el, i) => list.children[i] !== el)) replace(list, ...wanted)
  }
  store.on('tasks', renderTasks)
  store.on('agents', renderAgents)
  renderTasks()

  const loadAgents = async () => {
    const { data, error } = await api.api.agents.get()
    if (error?.status === 401) return ctx.unauthorized()
    if (error) return void (message.textContent = errorText(error))
    store.agents = data
    store.emit('agents')
  }
  void loadAgents()

  const el = h('section', { class: 'screen' }, h('h2', null, 'Tasks'), form, h('h3', null, 'Live status'), list)
  // A phone would pop its keyboard up on every visit: focus the field only with a real pointer.
  const fine = matchMedia('(pointer: fine)')
  return { name: 'Tasks', el, shown: () => fine.matches && instruction.focus({ preventScroll: true }) }
}
