import { treaty, type Treaty } from '@elysiajs/eden'
import type { App } from '../app'

/** Where the page came from: the API and the sockets live there too (the CSP allows nothing else). */
export function serverBase(): string {
  return new URL('.', location.href).href.replace(/\/+$/, '')
}

export function socketBase(): string {
  return serverBase().replace(/^http/, 'ws')
}

/** The typed client on the server's own App type: a changed route breaks this page's type check. */
export function createApi(token: () => string | null) {
  return treaty<App>(serverBase(), {
    // Dates stay ISO strings, as the contract sends them.
    parseDate: false,
    headers: () => {
      const value = token()
      return value ? { authorization: `Bearer ${value}` } : undefined
    },
  })
}

export type Api = ReturnType<typeof createApi>
export type TaskView = Treaty.Data<Api['api']['tasks']['get']>[number]
export type AgentView = Treaty.Data<Api['api']['agents']['get']>[number]
export type FilePatch = Treaty.Data<Api['api']['git']['diff']['get']>['patches'][number]
export type CommandView = Treaty.Data<ReturnType<Api['api']['cmd']>['get']>
export type Connection = Treaty.Data<Api['api']['session']['post']>

/** An Eden error as one sentence: the server's `message` when it sent the contract's error JSON. */
export function errorText(error: { status: number; value: unknown } | null | undefined): string {
  if (!error) return 'Unknown error.'
  const value = error.value as { message?: unknown; error?: unknown } | string | null
  if (value && typeof value === 'object' && typeof value.message === 'string') return value.message
  if (typeof value === 'string' && value) return `${error.status}: ${value.slice(0, 200)}`
  return `The server answered ${error.status}.`
}

/** Thrown by screens when the server says the session is gone, so the page can ask to pair again. */
export class SessionGone extends Error {}
