import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard } from '../auth'
import type { AgentRegistry } from '../agents'

export const AgentSchema = t.Object({
  name: t.String({ description: 'What POST /api/tasks takes as `agent`' }),
  available: t.Boolean({ description: "The program of its mode is on the server's PATH (or, for custom, configured)" }),
  description: t.String(),
  mode: t.Union([t.Literal('acp'), t.Literal('print')], {
    description: 'acp: a conversation over the Agent Client Protocol; print: one instruction in a PTY (AGENT_<NAME>_MODE)',
  }),
  approvals: t.Boolean({ description: "The agent's permission requests reach the clients as confirmations (acp mode)" }),
})

export function createAgentRoutes({ auth, agents }: { auth: AuthGuard; agents: AgentRegistry }) {
  return new Elysia({ name: 'routes.agents', prefix: '/api/agents' }).use(auth).get('/', () => agents.list(), {
    response: { 200: t.Array(AgentSchema), 401: ErrorSchema },
    detail: { summary: 'The agents this server can run, and whether each is installed', tags: ['tasks'], security: [{ bearerAuth: [] }] },
  })
}
