import { Elysia, t } from 'elysia'
import { unauthorized, type AuthGuard } from '../auth'
import type { Session } from '../session'
import type { SocketLayer } from '../ws'

type WsDeps = { auth: AuthGuard; ws: SocketLayer }

const sessionQuery = {
  sessionId: t.Optional(t.String({ description: "The token's session; another session's id is refused with 401" })),
  token: t.Optional(t.String({ description: 'The session JWT (or send Authorization: Bearer)' })),
}

/**
 * `/ws/pty` and `/ws/events`: the query schemas and the auth; the socket layer (src/ws) does the
 * rest. Both refuse the upgrade before any output: 401 for a bad token (the auth guard) or a
 * sessionId that is not the token's; a browser Origin outside CORS_ORIGINS is refused (403) once,
 * globally, in the http plugin.
 */
export function createWsRoutes({ auth, ws }: WsDeps) {
  const otherSession = (session: Session, sessionId: string | undefined) => sessionId !== undefined && sessionId !== session.id

  const pty = new Elysia({ name: 'routes.ws.pty' })
    .use(auth)
    .guard({
      query: t.Object({
        ...sessionQuery,
        cols: t.Optional(t.Numeric({ description: 'Initial terminal width' })),
        rows: t.Optional(t.Numeric({ description: 'Initial terminal height' })),
        taskId: t.Optional(t.String({ description: "Watch this task's agent terminal instead of the session shell" })),
      }),
    })
    .resolve(async ({ session, query, set, status }) => {
      if (otherSession(session, query.sessionId)) return status(401, unauthorized(set, 'The sessionId is not the session of this token.'))
      return { target: await ws.ptyTarget(session, query) }
    })
    .ws('/ws/pty', {
      open(socket) {
        ws.openPty(socket, socket.data.session, socket.data.target)
      },
      close(socket) {
        ws.close(socket)
      },
      detail: {
        summary: 'Live terminal: raw output frames; JSON resize/input or raw keystrokes in; {"type":"exit"} then close',
        tags: ['websocket'],
        security: [{ bearerAuth: [] }],
      },
    })

  const eventStream = new Elysia({ name: 'routes.ws.events' })
    .use(auth)
    .guard({
      query: t.Object({
        ...sessionQuery,
        resumeSeq: t.Optional(t.Numeric({ minimum: 0, description: 'Replay kept events with a higher seq' })),
        epoch: t.Optional(t.String({ description: 'The epoch of the events the client saw (gap when it is not the current one)' })),
      }),
    })
    .resolve(({ session, query, set, status }) => {
      if (otherSession(session, query.sessionId)) return status(401, unauthorized(set, 'The sessionId is not the session of this token.'))
      return {}
    })
    .ws('/ws/events', {
      open(socket) {
        ws.openEvents(socket, socket.data.session, socket.data.query)
      },
      close(socket) {
        ws.close(socket)
      },
      detail: {
        summary: 'Session events {seq, ts, type, ...}: resume frame, replay after resumeSeq, then live; ping/resize/user_message in',
        tags: ['websocket'],
        security: [{ bearerAuth: [] }],
      },
    })

  return new Elysia({ name: 'routes.ws' }).use(pty).use(eventStream)
}
