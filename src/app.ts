import { Elysia } from 'elysia'
import { createAuthGuard, createPairing, ErrorSchema } from './auth'
import { createApiDocs } from './http/openapi'
import { createHttpPlugin } from './http/plugin'
import { AgentSchema, createAgentRoutes } from './routes/agents'
import { CommandRequestSchema, CommandSchema, CommandStartedSchema, createCmdRoutes } from './routes/cmd'
import { ConnectionSchema } from './routes/connection'
import { createCmdAllowlistRoutes } from './routes/cmd-allowlist'
import { createGitRoutes } from './routes/git'
import { createHealthRoutes } from './routes/health'
import { FilePatchSchema, HunkSchema, PatchesSchema, RepoStatusSchema } from './routes/schemas'
import { createSessionRoutes, SessionRequestSchema, SessionSchema } from './routes/session'
import { ApplyRequestSchema, ApplyResultSchema, createTaskRoutes, TaskDeletedSchema, TaskRequestSchema, TaskSchema, TaskStatusSchema } from './routes/tasks'
import { createWebRoutes } from './routes/web'
import { createWsRoutes } from './routes/ws'
import type { Services } from './services'
import { EVENT_DEFINITIONS } from './ws/frames'

/**
 * The routes' schemas as /swagger/json names them: a PascalCase noun, which is the schema's name
 * in the code without its `Schema` suffix (frames and events are already named that way).
 */
const PUBLISHED_SCHEMAS = {
  Session: SessionSchema,
  SessionRequest: SessionRequestSchema,
  Connection: ConnectionSchema,
  Task: TaskSchema,
  TaskStatus: TaskStatusSchema,
  TaskRequest: TaskRequestSchema,
  ApplyRequest: ApplyRequestSchema,
  ApplyResult: ApplyResultSchema,
  TaskDeleted: TaskDeletedSchema,
  FilePatch: FilePatchSchema,
  Hunk: HunkSchema,
  Patches: PatchesSchema,
  RepoStatus: RepoStatusSchema,
  Agent: AgentSchema,
  Command: CommandSchema,
  CommandRequest: CommandRequestSchema,
  CommandStarted: CommandStartedSchema,
  Error: ErrorSchema,
}

/**
 * Chains every plugin onto one app. Never listens and never reads the environment: main.ts and
 * the tests hand it the services they built.
 */
export function createApp(services: Services) {
  const { config, sessions } = services
  const auth = createAuthGuard({ sessions, jwtSecret: config.jwtSecret })
  const pairing = createPairing({ jwtSecret: config.jwtSecret, pairingToken: config.pairingToken, devMode: config.devMode })

  // WebSocket options only take effect on the root instance; 1 MiB bounds one incoming frame.
  // normalize 'typebox': Elysia's own normalizer coerces a string into an array or object with an
  // entry per character, seconds of work for a 1 MB body.
  return new Elysia({ name: 'cockpit-coder', websocket: { maxPayloadLength: 1024 * 1024 }, normalize: 'typebox' })
    .use(createHttpPlugin({ config, logger: services.logger }))
    .use(
      createApiDocs({
        version: services.version,
        schemas: PUBLISHED_SCHEMAS,
        eventNames: EVENT_DEFINITIONS.map((definition) => definition.name),
      }),
    )
    .use(createWebRoutes({ publicUrl: config.publicUrl }))
    .use(createHealthRoutes({ version: services.version, startedAt: services.startedAt }))
    .use(createSessionRoutes({ auth, pairing, sessions, repoAllowlist: config.repoAllowlist, publicUrl: config.publicUrl, listTasks: (id) => services.tasks.list(id) }))
    .use(createGitRoutes({ auth }))
    .use(createCmdAllowlistRoutes({ auth, cmdAllowlist: config.cmdAllowlist }))
    .use(createCmdRoutes({ auth, commands: services.commands }))
    .use(createAgentRoutes({ auth, agents: services.agents }))
    .use(createTaskRoutes({ auth, tasks: services.tasks }))
    .use(createWsRoutes({ auth, ws: services.ws }))
}

export type App = ReturnType<typeof createApp>
