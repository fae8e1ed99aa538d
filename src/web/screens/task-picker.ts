import type { Cockpit } from '../context'
import { h, replace } from '../dom'

/** The task a screen shows, shared by Chat and Review (one selection for the whole page). */
export function taskPicker(ctx: Cockpit, id: string): HTMLSelectElement {
  const select = h('select', { id, 'aria-label': 'Task' })
  const render = () => {
    const selected = ctx.selectedTaskId()
    if (ctx.store.tasks.length === 0) return replace(select, h('option', { value: '' }, 'No tasks yet'))
    replace(
      select,
      ...ctx.store.tasks.map((task) =>
        h('option', { value: task.taskId, selected: task.taskId === selected }, `${task.status} · ${(task.instruction.split('\n')[0] ?? '').slice(0, 60)}`),
      ),
    )
  }
  select.addEventListener('change', () => ctx.selectTask(select.value || null))
  ctx.store.on('tasks', render)
  render()
  return select
}
