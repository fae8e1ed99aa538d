import { Elysia, t } from 'elysia'
import { unauthorizedBody, type AuthGuard } from '../auth'
import type { EventHub } from '../events'
import { BadRequestError } from '../errors'
import {
  ClientSocket,
  CLOSE,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_PTY_FLOW,
  EventsConnection,
  EventsFanout,
  PtyConnection,
  type PtyFlowOptions,
  type SessionSockets,
  type TaskTerminals,
  type TopicSocket,
} from '../ws'
import { checkTerminalSize, type TerminalManager } from '../pty'
import type { Session } from '../session'

type WsDeps = {
  auth: AuthGuard
  terminals: TerminalManager
  events: EventHub
  tasks: TaskTerminals
  /** Open sockets per session; the app closes them when the session ends. */
  sockets: SessionSockets
  /** Output the server may queue per client before dropping it (default 4 MiB). */
  maxQueuedBytes?: number
  /** When a terminal client skips output, resyncs, or is dropped as stuck. */
  ptyFlow?: PtyFlowOptions
  /** How long `?taskId=` waits for a just-created task's agent to get its terminal (default 5 s). */
  taskTerminalWaitMs?: number
}

type Connection = { message(message: string | Buffer | ArrayBuffer | Uint8Array): void; drain?(): void; closed(): void }

/** Bun's ServerWebSocket as far as this file touches it; its `data` is the object Elysia upgraded with. */
type RawServerSocket = ClientSocketRaw & TopicSocket & { data: Record<string, unknown> }
type ClientSocketRaw = ConstructorParameters<typeof ClientSocket>[0]

const sessionQuery = {
  sessionId: t.Optional(t.String({ description: "The token's session; another session's id is refused with 401" })),
  token: t.Optional(t.String({ description: 'The session JWT (or send Authorization: Bearer)' })),
}

/** The size from `?cols=&rows=`: both or neither. */
function querySize(cols: number | undefined, rows: number | undefined): { cols: number; rows: number } | undefined {
  if (cols === undefined && rows === undefined) return undefined
  if (cols === undefined || rows === undefined) throw new BadRequestError('Send cols and rows together.', 'bad_terminal_size')
  return checkTerminalSize(cols, rows)
}

function rawSocket(ws: { raw: unknown }): RawServerSocket {
  return ws.raw as RawServerSocket
}

/**
 * Elysia rewrites incoming text before handlers see it (`"x"` becomes x, `1` a number, `[..]` an
 * array), which would corrupt keystrokes and pastes. Bun calls `data.message` (and `data.drain`)
 * on the raw socket, so each connection takes those slots over and receives frames untouched.
 */
function receiveRawFrames(raw: RawServerSocket, connection: Connection): void {
  raw.data.message = (_ws: unknown, message: string | Buffer) => connection.message(message)
  raw.data.drain = () => connection.drain?.()
}

/**
 * A task's terminal exists once its agent started; a client that opens the terminal right after
 * creating the task (the app does) waits for it instead of getting a 404. TaskTerminals cannot tell
 * an unknown task from one still starting, so an unknown id answers 404 only after the wait.
 */
async function waitForTaskTerminal(tasks: TaskTerminals, sessionId: string, taskId: string, waitMs: number) {
  const deadline = performance.now() + waitMs
  for (;;) {
    const terminal = tasks.terminalFor(sessionId, taskId)
    if (terminal || performance.now() >= deadline) return terminal
    await Bun.sleep(25)
  }
}

/**
 * `/ws/pty` and `/ws/events`. Both refuse the upgrade before any output: 401 for a bad token (the
 * auth guard) or a sessionId that is not the token's, 403 for a browser Origin outside
 * CORS_ORIGINS (the http plugin checks it too; this keeps the routes safe on their own).
 */
export function createWsRoutes(deps: WsDeps) {
  const { auth, terminals, events, tasks, sockets } = deps
  const clientOptions = { maxQueuedBytes: deps.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES }
  const connections = new WeakMap<object, { connection: Connection; unregister: () => void }>()
  const fanout = new EventsFanout(clientOptions.maxQueuedBytes)

  // The browser Origin of every upgrade is checked once, globally, in the http plugin.
  const admit = (session: Session, sessionId: string | undefined, set: { headers: Record<string, string | number> }) => {
    if (sessionId !== undefined && sessionId !== session.id) {
      return { status: 401 as const, body: unauthorizedBody(set, 'The sessionId is not the session of this token.') }
    }
    return undefined
  }

  const open = (raw: RawServerSocket, session: Session, connect: (socket: ClientSocket) => Connection) => {
    const socket = new ClientSocket(raw, clientOptions)
    const { admitted, remove: unregister } = sockets.admit(session.id, socket)
    if (!admitted) {
      connections.set(raw.data, { connection: { message: () => {}, closed: () => socket.closed() }, unregister })
      return
    }
    const connection = connect(socket)
    connections.set(raw.data, { connection, unregister })
    receiveRawFrames(raw, connection)
  }

  const close = (raw: RawServerSocket) => {
    const entry = connections.get(raw.data)
    connections.delete(raw.data)
    entry?.unregister()
    entry?.connection.closed()
  }

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
      const refusal = admit(session, query.sessionId, set)
      if (refusal) return status(refusal.status, refusal.body)
      const size = querySize(query.cols, query.rows)
      if (query.taskId === undefined) {
        terminals.ensureShell(session, size)
        return { size, taskTerminal: undefined }
      }
      const taskTerminal = await waitForTaskTerminal(tasks, session.id, query.taskId, deps.taskTerminalWaitMs ?? 5000)
      if (!taskTerminal) return status(404, { error: 'task_not_found', message: `No task ${query.taskId} in this session.` })
      return { size, taskTerminal }
    })
    .ws('/ws/pty', {
      open(ws) {
        const { session, size, taskTerminal } = ws.data
        open(rawSocket(ws), session, (socket) => {
          const connection = new PtyConnection(socket, session, deps.ptyFlow ?? DEFAULT_PTY_FLOW)
          try {
            if (taskTerminal) connection.attachTask(taskTerminal, size)
            else connection.attachShell(terminals, size)
          } catch (error) {
            // The shell was started before the upgrade; another client may have taken the last slot since.
            const status = (error as { status?: number }).status
            socket.close(status === 429 ? CLOSE.tooManyClients : CLOSE.unavailable, (error as Error).message)
          }
          return connection
        })
      },
      close(ws) {
        close(rawSocket(ws))
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
      const refusal = admit(session, query.sessionId, set)
      if (refusal) return status(refusal.status, refusal.body)
      return {}
    })
    .ws('/ws/events', {
      open(ws) {
        const { session, query } = ws.data
        const raw = rawSocket(ws)
        open(raw, session, (socket) => {
          const bus = events.forSession(session.id)
          const goLive = () => fanout.join(bus, socket, raw)
          const connection = new EventsConnection(socket, { session, bus, terminals, tasks, goLive })
          connection.start(query.resumeSeq, query.epoch)
          return connection
        })
      },
      close(ws) {
        close(rawSocket(ws))
      },
      detail: {
        summary: 'Session events {seq, ts, type, ...}: resume frame, replay after resumeSeq, then live; ping/resize/user_message in',
        tags: ['websocket'],
        security: [{ bearerAuth: [] }],
      },
    })

  return new Elysia({ name: 'routes.ws' }).use(pty).use(eventStream)
}
