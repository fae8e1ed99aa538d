import type { Api } from './api'
import type { EventSocket } from './events'
import type { Store } from './state'
import type { StoredSession, TabName } from './storage'

/** What every screen gets: the typed API, the shared state and the ways to move around. */
export type Cockpit = {
  api: Api
  store: Store
  session: StoredSession
  events: EventSocket
  selectedTaskId(): string | null
  selectTask(taskId: string | null): void
  go(tab: TabName, taskId?: string): void
  refreshTasks(): Promise<void>
  /** An API answer of 401: the session is gone, pair again. */
  unauthorized(): void
}

export type Screen = {
  name: TabName
  el: HTMLElement
  shown?(): void
  hidden?(): void
}
