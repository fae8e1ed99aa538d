import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard } from '../auth'
import { diffWorkingTree, readStatus } from '../git'
import { PatchesSchema, RepoStatusSchema } from './schemas'

const security = [{ bearerAuth: [] }]

export function createGitRoutes({ auth }: { auth: AuthGuard }) {
  return new Elysia({ name: 'routes.git', prefix: '/api/git' })
    .use(auth)
    .get('/diff', async ({ session, query }) => ({ patches: await diffWorkingTree(session.repo, { base: query.base ?? 'HEAD' }) }), {
      query: t.Object({ base: t.Optional(t.String({ minLength: 1, maxLength: 256, description: 'Commit, branch or tag to diff against (default HEAD)' })) }),
      response: { 200: PatchesSchema, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      detail: { summary: "The session repo's working tree (tracked changes and untracked, not-ignored files) against base", tags: ['git'], security },
    })
    .get('/status', ({ session }) => readStatus(session.repo), {
      response: {
        200: RepoStatusSchema,
        401: ErrorSchema,
        409: ErrorSchema,
      },
      detail: { summary: 'Branch, HEAD and per-file state of the session repo', tags: ['git'], security },
    })
}
