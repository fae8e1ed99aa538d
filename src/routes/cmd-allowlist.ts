import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard } from '../auth'

/**
 * `GET /api/cmd/allowlist` (an extension to the contract): the commands this server runs, so a
 * client can offer them instead of making its user guess. Entries ending in " *" take extra arguments.
 */
export function createCmdAllowlistRoutes({ auth, cmdAllowlist }: { auth: AuthGuard; cmdAllowlist: readonly string[] }) {
  return new Elysia({ name: 'routes.cmd.allowlist', prefix: '/api/cmd' })
    .use(auth)
    .get('/allowlist', () => ({ allowlist: [...cmdAllowlist] }), {
      response: { 200: t.Object({ allowlist: t.Array(t.String()) }), 401: ErrorSchema },
      detail: {
        summary: 'The CMD_ALLOWLIST entries (extension to the contract)',
        description: 'An entry ending in " *" also allows extra arguments after its fixed words; every other command must equal an entry word for word.',
        tags: ['commands'],
        security: [{ bearerAuth: [] }],
      },
    })
}
