import { Elysia, t } from 'elysia'

export function createHealthRoutes({ version, startedAt }: { version: string; startedAt: number }) {
  return new Elysia({ name: 'routes.health' }).get(
    '/healthz',
    () => ({ ok: true as const, version, uptimeS: Math.floor((Date.now() - startedAt) / 1000) }),
    {
      response: { 200: t.Object({ ok: t.Literal(true), version: t.String(), uptimeS: t.Number() }) },
      detail: { summary: 'Liveness and version; no auth', tags: ['server'] },
    },
  )
}
