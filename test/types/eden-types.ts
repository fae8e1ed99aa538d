/**
 * Type-level tests, checked by `tsc --noEmit` in CI (never run): the Eden client derived from
 * `App` must reject wrong bodies at compile time. An `@ts-expect-error` that stops erroring
 * fails the typecheck.
 */
import { treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'

export function typeChecks(client = treaty<App>('http://127.0.0.1:8080')) {
  // A well-formed body compiles.
  void client.api.session.post({ repo: '/work/repo' })
  // @ts-expect-error repo must be a string
  void client.api.session.post({ repo: 42 })
  // @ts-expect-error repo is required
  void client.api.session.post({ label: 'no repo' })
  // @ts-expect-error there is no such route
  void client.api.nothing.get()
}
