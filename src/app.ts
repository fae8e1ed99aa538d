import { Elysia } from 'elysia'
import { swagger } from '@elysiajs/swagger'
import { createAuthGuard, createPairing } from './auth'
import { createHttpPlugin } from './http/plugin'
import { createAgentRoutes } from './routes/agents'
import { createCmdRoutes } from './routes/cmd'
import { createGitRoutes } from './routes/git'
import { createHealthRoutes } from './routes/health'
import { createSessionRoutes } from './routes/session'
import { createTaskRoutes } from './routes/tasks'
import { createWsRoutes } from './routes/ws'
import type { Services } from './services'

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
      swagger({
        path: '/swagger',
        documentation: {
          info: {
            title: 'Cockpit Coder',
            version: services.version,
            description:
              'Drive coding agents on this machine from a phone. All /api routes need `Authorization: Bearer <session token>` ' +
              '(POST /api/session takes the pairing token). WebSockets: /ws/pty and /ws/events take `?sessionId=&token=`.',
          },
          components: {
            securitySchemes: {
              bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Session token from POST /api/session' },
              pairingToken: { type: 'http', scheme: 'bearer', description: 'Pairing token printed at start-up' },
            },
          },
          tags: [
            { name: 'server', description: 'Health' },
            { name: 'session', description: 'Pairing and sessions' },
            { name: 'git', description: 'Diff and status of the session repo' },
            { name: 'commands', description: 'Allowlisted commands, run without a shell' },
            { name: 'tasks', description: 'Agents and their tasks: run, watch, review patches, apply' },
            { name: 'websocket', description: '/ws/pty (terminal) and /ws/events (event stream); upgrade with ?sessionId=&token=' },
          ],
        },
      }),
    )
    .use(createHealthRoutes({ version: services.version, startedAt: services.startedAt }))
    .use(createSessionRoutes({ auth, pairing, sessions, repoAllowlist: config.repoAllowlist, publicUrl: config.publicUrl, listTasks: (id) => services.tasks.list(id) }))
    .use(createGitRoutes({ auth }))
    .use(createCmdRoutes({ auth, commands: services.commands }))
    .use(createAgentRoutes({ auth, agents: services.agents }))
    .use(createTaskRoutes({ auth, tasks: services.tasks }))
    .use(createWsRoutes({ auth, ws: services.ws }))
}

export type App = ReturnType<typeof createApp>
