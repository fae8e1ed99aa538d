import { createApi, errorText } from '../api'
import { h } from '../dom'
import type { StoredSession } from '../storage'

/**
 * Pairing by hand: the pairing token the server printed and a repository path inside its
 * REPO_ALLOWLIST. The pairing token is sent once as a bearer header and never stored.
 */
export function pairingScreen({ notice, paired }: { notice: string | null; paired(session: StoredSession): void }): HTMLElement {
  const token = h('input', { id: 'pair-token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' })
  const repo = h('input', { id: 'pair-repo', type: 'text', required: true, spellcheck: 'false', placeholder: '/home/me/project' })
  const message = h('p', { class: 'error', role: 'alert' }, notice ?? '')
  const button = h('button', { type: 'submit' }, 'Pair')
  const form = h(
    'form',
    { class: 'card pair', 'aria-labelledby': 'pair-title' },
    h('h1', { id: 'pair-title' }, 'Cockpit Coder'),
    h('p', null, 'Open the link the server printed (it ends in #pair=…), or pair with the pairing token and a repository path.'),
    h('label', { for: 'pair-token' }, 'Pairing token'),
    token,
    h('label', { for: 'pair-repo' }, 'Repository path'),
    repo,
    button,
    message,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    button.disabled = true
    message.textContent = ''
    const { data, error } = await createApi(() => null).api.session.post(
      { repo: repo.value.trim(), label: 'web' },
      { headers: { authorization: `Bearer ${token.value.trim()}` } },
    )
    button.disabled = false
    if (error) return void (message.textContent = errorText(error))
    token.value = ''
    paired({ sessionId: data.sessionId, token: data.token, expiresAt: data.expiresAt, repo: repo.value.trim() })
  })
  queueMicrotask(() => token.focus())
  return h('div', { class: 'center' }, form)
}
