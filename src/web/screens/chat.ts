import { errorText } from '../api'
import type { Cockpit, Screen } from '../context'
import { h, replace, shortTime, stickToBottom } from '../dom'
import type { ChatItem } from '../state'
import { taskPicker } from './task-picker'

/**
 * The conversation of the selected task: messages, tool calls, approvals (Allow / Reject) and
 * follow-ups. Everything the agent says is put in as text, never as HTML.
 */
export function chatScreen(ctx: Cockpit): Screen {
  const { store, events } = ctx
  const log = h('ol', { class: 'chat-log', 'aria-label': 'Conversation', 'aria-live': 'polite' })
  const input = h('textarea', { id: 'chat-input', rows: 2, placeholder: 'Follow-up for the agent', 'aria-label': 'Follow-up message' })
  const send = h('button', { type: 'submit' }, 'Send')
  const notice = h('p', { class: 'error', role: 'alert' })

  const answer = (item: Extract<ChatItem, { kind: 'confirmation' }>, confirmed: boolean) => {
    // The frame the app's ChatScreen sends; true without optionId is allow_once, false reject_once.
    if (!events.send({ type: 'confirmation', messageId: item.id, confirmed })) {
      notice.textContent = 'Not connected; try again in a moment.'
      return
    }
    item.sent = true
    schedule()
  }

  const line = (item: ChatItem): HTMLElement => {
    switch (item.kind) {
      case 'message':
        return h('li', { class: `msg ${item.role}` }, h('span', { class: 'who' }, `${item.role === 'user' ? 'You' : 'Agent'} · ${shortTime(item.ts)}`), h('p', { class: 'text' }, item.content))
      case 'tool':
        return h('li', { class: 'tool' }, h('span', { class: `badge ${item.status}` }, item.status || 'tool'), ' ', h('span', null, item.title), item.toolKind ? h('span', { class: 'muted' }, ` (${item.toolKind})`) : null)
      case 'output':
        return h('li', { class: 'output' }, h('pre', null, item.text))
      case 'note':
        return h('li', { class: `note ${item.tone}` }, item.text)
      case 'confirmation': {
        const decided = item.outcome !== null
        return h(
          'li',
          { class: 'confirm', 'data-message-id': item.id },
          h('p', { class: 'text' }, item.content),
          decided
            ? h('p', { class: `badge ${item.outcome}` }, `${item.outcome}${item.by ? ` by ${item.by}` : ''}`)
            : h(
                'div',
                { class: 'row' },
                h('button', { type: 'button', disabled: item.sent, onclick: () => answer(item, true) }, 'Allow'),
                h('button', { type: 'button', class: 'danger', disabled: item.sent, onclick: () => answer(item, false) }, 'Reject'),
              ),
        )
      }
    }
  }

  const render = () => {
    const taskId = ctx.selectedTaskId()
    const task = store.task(taskId)
    stickToBottom(log, () => {
      if (!task) return replace(log, h('li', { class: 'muted' }, 'Start a task on the Tasks screen.'))
      const items = store.chat(task.taskId)
      // The page's own copy of the instruction, only until the server's (its echo as a `message`
      // event, or the transcript) is here: shown once either way.
      const firstUser = items.find((item) => item.kind === 'message' && item.role === 'user')
      const echoed = firstUser?.kind === 'message' && firstUser.content === task.instruction
      const opening = echoed ? null : line({ kind: 'message', id: 'opening', role: 'user', content: task.instruction, ts: task.createdAt })
      replace(log, opening, ...items.map(line))
    })
  }

  // The transcript, each time a chat opens (the event replay alone lacks what left the server's
  // ring, e.g. after a long output); live events then add to it without duplicates (by messageId).
  let loadedFor: string | null = null
  const loadTranscript = async () => {
    const taskId = ctx.selectedTaskId()
    if (!visible || taskId === null || taskId === loadedFor) return
    loadedFor = taskId
    const { data, error } = await ctx.api.api.tasks({ id: taskId }).messages.get()
    if (error?.status === 401) return ctx.unauthorized()
    if (error) {
      loadedFor = null
      if (error.status !== 404) notice.textContent = errorText(error)
      return
    }
    store.mergeTranscript(taskId, data.messages)
  }

  const form = h('form', { class: 'composer' }, input, send)
  const submit = () => {
    const content = input.value.trim()
    if (!content) return
    notice.textContent = ''
    if (!events.send({ type: 'user_message', content, taskId: ctx.selectedTaskId() ?? undefined })) {
      notice.textContent = 'Not connected; the message was not sent.'
      return
    }
    input.value = ''
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    submit()
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      submit()
    }
  })
  // A busy agent sends many events: draw at most once a frame, and only while the Chat is shown.
  let visible = false
  let queued = false
  const schedule = () => {
    if (!visible || queued) return
    queued = true
    requestAnimationFrame(() => {
      queued = false
      if (visible) render()
    })
  }
  store.on('chat', schedule)
  store.on('tasks', () => {
    schedule()
    void loadTranscript()
  })

  const el = h('section', { class: 'screen chat' }, h('h2', null, 'Chat'), taskPicker(ctx, 'chat-task'), log, notice, form)
  return {
    name: 'Chat',
    el,
    shown: () => {
      visible = true
      loadedFor = null
      void loadTranscript()
      render()
      log.scrollTop = log.scrollHeight
    },
    hidden: () => (visible = false),
  }
}
