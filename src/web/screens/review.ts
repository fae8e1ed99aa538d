import { errorText, type FilePatch } from '../api'
import type { Cockpit, Screen } from '../context'
import { h, replace } from '../dom'
import { taskPicker } from './task-picker'

type Selection = Map<string, { whole: HTMLInputElement | null; hunks: HTMLInputElement[] }>

function lineClass(line: string): string {
  if (line.startsWith('+')) return 'add'
  if (line.startsWith('-')) return 'del'
  if (line.startsWith('\\')) return 'meta'
  return 'ctx'
}

/** One hunk: its header and its lines, each line a text node in a classed span. */
function hunkView(patch: FilePatch, index: number, checkbox: HTMLInputElement) {
  const hunk = patch.hunks[index]!
  const id = checkbox.id
  const header = `@@ -${hunk.startOld},${hunk.lenOld} +${hunk.startNew},${hunk.lenNew} @@`
  return h(
    'div',
    { class: 'hunk' },
    h('label', { for: id, class: 'hunk-head' }, checkbox, ` Hunk ${index + 1} `, h('code', null, header)),
    h('pre', { class: 'diff' }, ...hunk.lines.map((line) => h('span', { class: lineClass(line) }, line + '\n'))),
  )
}

/**
 * The selected task's changes: files, then hunks with checkboxes; Apply commits the ticked hunks
 * (one `{file, hunks: [i]}` entry per hunk, as the app sends them) and shows the new commit.
 */
export function reviewScreen(ctx: Cockpit): Screen {
  const { api, store } = ctx
  const files = h('div', { class: 'files' })
  const message = h('input', { id: 'commit-message', type: 'text', 'aria-label': 'Commit message', placeholder: 'Commit message' })
  const apply = h('button', { type: 'submit' }, 'Apply')
  const result = h('p', { class: 'result', role: 'status' })
  const form = h('form', { class: 'composer' }, message, apply)
  let selection: Selection = new Map()
  let shownTask: string | null = null
  let loading = 0

  const load = async () => {
    const taskId = ctx.selectedTaskId()
    const task = store.task(taskId)
    const ticket = ++loading
    // Until the task list has arrived (a reload) the task is unknown: load again when it comes.
    shownTask = task ? taskId : null
    if (!task || !taskId) {
      selection = new Map()
      renderedKey = ''
      replace(files, h('p', { class: 'muted' }, 'Select a task to review its changes.'))
      return
    }
    result.textContent = task.status === 'applied' && task.commit ? `Applied as ${task.commit.slice(0, 7)}` : ''
    if (!message.value || message.dataset.auto === 'true') {
      message.value = task.instruction.split('\n')[0] ?? ''
      message.dataset.auto = 'true'
    }
    const { data, error } = await api.api.tasks({ id: taskId }).patches.get()
    if (ticket !== loading) return
    if (error?.status === 401) return ctx.unauthorized()
    if (error) {
      renderedKey = ''
      return replace(files, h('p', { class: 'error' }, errorText(error)))
    }
    render(data.patches)
  }

  let renderedKey = ''
  const render = (patches: FilePatch[]) => {
    // A patch event or a status change reloads; unchanged patches keep the page (and the ticks) as they are.
    const key = `${shownTask}\n${JSON.stringify(patches)}`
    if (key === renderedKey) return
    renderedKey = key
    const ticked = new Set<string>()
    for (const [file, boxes] of selection) {
      if (boxes.whole?.checked) ticked.add(`${file}\n*`)
      boxes.hunks.forEach((box, index) => box.checked && ticked.add(`${file}\n${index}`))
    }
    selection = new Map()
    if (patches.length === 0) return replace(files, h('p', { class: 'muted' }, 'No changes (yet).'))
    replace(
      files,
      ...patches.map((patch, fileIndex) => {
        const boxes = patch.hunks.map((_, index) =>
          h('input', { type: 'checkbox', id: `hunk-${fileIndex}-${index}`, 'data-file': patch.file, 'data-hunk': index, checked: ticked.has(`${patch.file}\n${index}`) }),
        )
        // Binary files, mode changes and empty files have no hunks: they are taken whole.
        const whole = boxes.length === 0 ? h('input', { type: 'checkbox', id: `file-${fileIndex}`, 'data-file': patch.file, checked: ticked.has(`${patch.file}\n*`) }) : null
        selection.set(patch.file, { whole, hunks: boxes })
        const title = patch.oldFile && patch.oldFile !== patch.file ? `${patch.oldFile} → ${patch.file}` : patch.file
        return h(
          'section',
          { class: 'file' },
          h('h3', null, h('span', { class: `badge ${patch.type}` }, patch.type), ' ', h('span', { class: 'path' }, title)),
          whole ? h('label', { for: whole.id }, whole, patch.binary ? ' Binary file: take it whole' : ' Take this file') : null,
          ...boxes.map((box, index) => hunkView(patch, index, box)),
        )
      }),
    )
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const taskId = shownTask
    if (!taskId) return
    const select: { file: string; hunks?: number[] }[] = []
    for (const [file, boxes] of selection) {
      if (boxes.whole?.checked) select.push({ file })
      boxes.hunks.forEach((box, index) => box.checked && select.push({ file, hunks: [index] }))
    }
    if (select.length === 0) return void (result.textContent = 'Tick at least one hunk to apply.')
    apply.disabled = true
    result.textContent = 'Applying…'
    const { data, error } = await api.api.tasks({ id: taskId }).apply.post({ select, commitMessage: message.value.trim() || undefined })
    apply.disabled = false
    if (error?.status === 401) return ctx.unauthorized()
    if (error) return void (result.textContent = errorText(error))
    result.textContent = `Committed ${data.commit.slice(0, 7)} on ${data.branch}`
    result.dataset.commit = data.commit
    message.dataset.auto = 'true'
    const task = store.task(taskId)
    if (task) store.upsertTask({ ...task, status: 'applied', commit: data.commit })
  })
  message.addEventListener('input', () => (message.dataset.auto = 'false'))

  let visible = false
  store.on('tasks', () => visible && ctx.selectedTaskId() !== shownTask && void load())
  store.on('patch', () => visible && void load())

  const el = h(
    'section',
    { class: 'screen review' },
    h('h2', null, 'Review'),
    taskPicker(ctx, 'review-task'),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Reload changes')),
    files,
    form,
    result,
  )
  return {
    name: 'Review',
    el,
    shown: () => {
      visible = true
      void load()
    },
    hidden: () => (visible = false),
  }
}
