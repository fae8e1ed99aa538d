/**
 * What the browser keeps: the session token in localStorage (never in a URL query or a cookie),
 * and which screen and task were open, so a reload finds them again.
 */
export type StoredSession = { sessionId: string; token: string; expiresAt: string; repo?: string }
export type StoredView = { tab: TabName; taskId: string | null }
export const TABS = ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands'] as const
export type TabName = (typeof TABS)[number]

const SESSION_KEY = 'cockpit.session'
const VIEW_KEY = 'cockpit.view'

function read(key: string): unknown {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null')
  } catch {
    return null
  }
}

export function loadSession(): StoredSession | null {
  const value = read(SESSION_KEY) as Partial<StoredSession> | null
  if (!value || typeof value.sessionId !== 'string' || typeof value.token !== 'string' || typeof value.expiresAt !== 'string') return null
  if (Date.parse(value.expiresAt) <= Date.now()) return null
  return { sessionId: value.sessionId, token: value.token, expiresAt: value.expiresAt, repo: typeof value.repo === 'string' ? value.repo : undefined }
}

export function saveSession(session: StoredSession): void {
  localStorage.setItem(SESSION_KEY, JSON.stringify(session))
}

export function forgetStored(): void {
  localStorage.removeItem(SESSION_KEY)
  localStorage.removeItem(VIEW_KEY)
}

export function loadView(): StoredView {
  const value = read(VIEW_KEY) as Partial<StoredView> | null
  const tab = TABS.find((name) => name === value?.tab) ?? 'Tasks'
  return { tab, taskId: typeof value?.taskId === 'string' ? value.taskId : null }
}

export function saveView(view: StoredView): void {
  localStorage.setItem(VIEW_KEY, JSON.stringify(view))
}

/**
 * The `#pair=<base64url JSON>` fragment the server prints. It is read once and removed from the
 * address bar, so the token does not linger in history or a screenshot.
 */
export function takePairingFragment(): StoredSession | 'invalid' | null {
  if (!location.hash.startsWith('#pair=')) return null
  const match = /^#pair=([A-Za-z0-9_-]+={0,2})$/.exec(location.hash)
  history.replaceState(null, '', location.pathname + location.search)
  if (!match?.[1]) return 'invalid'
  try {
    const base64 = match[1].replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const info = JSON.parse(new TextDecoder().decode(bytes)) as Partial<StoredSession>
    if (typeof info.sessionId !== 'string' || typeof info.token !== 'string' || typeof info.expiresAt !== 'string') return 'invalid'
    return { sessionId: info.sessionId, token: info.token, expiresAt: info.expiresAt }
  } catch {
    return 'invalid'
  }
}
