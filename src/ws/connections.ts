import { existsSync } from 'node:fs'
import type { EventHub } from '../events'
import { BadRequestError, ConflictError, NotFoundError } from '../errors'
import type { Logger } from '../logger'
import { checkTerminalSize, type Terminal, type TerminalManager } from '../pty'
import type { Session } from '../session'
import { ClientSocket, CLOSE, DEFAULT_MAX_QUEUED_BYTES, type SessionSockets } from './client-socket'
import { EventsConnection } from './events-connection'
import { EventsFanout, type TopicSocket } from './events-fanout'
import { ServerFrames } from './frames'
import { DEFAULT_PTY_FLOW, PtyConnection, type PtyFlowOptions } from './pty-connection'
import type { TaskTerminals } from './task-terminals'

export type SocketLayerDeps = {
  terminals: TerminalManager
  events: EventHub
  tasks: TaskTerminals
  /** Open sockets per session; the app closes them when the session ends. */
  sockets: SessionSockets
  logger: Logger
  /** Output the server may queue per client before dropping it (default 4 MiB). */
  maxQueuedBytes?: number
  /** When a terminal client skips output, resyncs, or is dropped as stuck. */
  ptyFlow?: PtyFlowOptions
  /** How long `?taskId=` waits for a just-created task's agent to get its terminal (default 5 s). */
  taskTerminalWaitMs?: number
}

type Connection = { message(message: string | Buffer | ArrayBuffer | Uint8Array): void; drain?(): void; closed(): void }

/** Bun's ServerWebSocket as far as this layer touches it; its `data` is the object Elysia upgraded with. */
type RawServerSocket = ConstructorParameters<typeof ClientSocket>[0] & TopicSocket & { data: Record<string, unknown> }

/** What a route's `ws` object is to this layer: Elysia's wrapper around Bun's socket. */
export type UpgradedSocket = { raw: unknown }

export type TerminalSize = { cols: number; rows: number }
export type PtyTarget = { size: TerminalSize | undefined; taskTerminal: Terminal | undefined }

/** The size from `?cols=&rows=`: both or neither. */
function querySize(cols: number | undefined, rows: number | undefined): TerminalSize | undefined {
  if (cols === undefined && rows === undefined) return undefined
  if (cols === undefined || rows === undefined) throw new BadRequestError('Send cols and rows together.', 'bad_terminal_size')
  return checkTerminalSize(cols, rows)
}

function rawSocket(ws: UpgradedSocket): RawServerSocket {
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
 * The socket layer as the routes see it: what to do before the upgrade (`ptyTarget`), on open
 * (`openPty`, `openEvents`) and on close. routes/ws.ts keeps only the schemas and the auth.
 */
export class SocketLayer {
  private readonly clientOptions: { maxQueuedBytes: number }
  private readonly connections = new WeakMap<object, { connection: Connection; unregister: () => void }>()
  private readonly fanout: EventsFanout
  private readonly frames: ServerFrames

  constructor(private readonly deps: SocketLayerDeps) {
    this.clientOptions = { maxQueuedBytes: deps.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES }
    this.fanout = new EventsFanout(this.clientOptions.maxQueuedBytes)
    // The hub's check: one mode (throw in tests, log in the server) for events and frames alike.
    this.frames = new ServerFrames(deps.events.outgoing)
  }

  /**
   * Before a `/ws/pty` upgrade: the size, and the session's shell started (or the task's agent
   * terminal found), so a refusal is an HTTP status rather than a socket that opens and closes.
   */
  async ptyTarget(session: Session, query: { cols?: number; rows?: number; taskId?: string }): Promise<PtyTarget> {
    const size = querySize(query.cols, query.rows)
    if (query.taskId === undefined) {
      // Also when a shell from before is still running there: no new terminal in a folder that is gone.
      if (!existsSync(session.repo)) {
        throw new ConflictError(`The session's repository ${session.repo} no longer exists; start a session on an existing repository.`, 'repo_missing')
      }
      this.deps.terminals.ensureShell(session, size)
      return { size, taskTerminal: undefined }
    }
    const taskTerminal = await this.waitForTaskTerminal(session.id, query.taskId, this.deps.taskTerminalWaitMs ?? 5000)
    if (!taskTerminal) throw new NotFoundError(`No task ${query.taskId} in this session.`, 'task_not_found')
    return { size, taskTerminal }
  }

  openPty(ws: UpgradedSocket, session: Session, { size, taskTerminal }: PtyTarget): void {
    this.open(rawSocket(ws), session, (socket) => {
      const connection = new PtyConnection(socket, session, this.frames, this.deps.ptyFlow ?? DEFAULT_PTY_FLOW)
      try {
        if (taskTerminal) connection.attachTask(taskTerminal, size)
        else connection.attachShell(this.deps.terminals, size)
      } catch (error) {
        // The shell was started before the upgrade; another client may have taken the last slot since.
        const status = (error as { status?: number }).status
        socket.close(status === 429 ? CLOSE.tooManyClients : CLOSE.unavailable, (error as Error).message)
      }
      return connection
    })
  }

  openEvents(ws: UpgradedSocket, session: Session, query: { resumeSeq?: number; epoch?: string }): void {
    const raw = rawSocket(ws)
    this.open(raw, session, (socket) => {
      const bus = this.deps.events.forSession(session.id)
      const goLive = () => this.fanout.join(bus, socket, raw)
      const { terminals, tasks, logger } = this.deps
      const connection = new EventsConnection(socket, { session, bus, terminals, tasks, goLive, frames: this.frames, logger })
      connection.start(query.resumeSeq, query.epoch)
      return connection
    })
  }

  close(ws: UpgradedSocket): void {
    const raw = rawSocket(ws)
    const entry = this.connections.get(raw.data)
    this.connections.delete(raw.data)
    entry?.unregister()
    entry?.connection.closed()
  }

  private open(raw: RawServerSocket, session: Session, connect: (socket: ClientSocket) => Connection): void {
    const socket = new ClientSocket(raw, this.clientOptions)
    const { admitted, remove: unregister } = this.deps.sockets.admit(session.id, socket)
    if (!admitted) {
      this.connections.set(raw.data, { connection: { message: () => {}, closed: () => socket.closed() }, unregister })
      return
    }
    const connection = connect(socket)
    this.connections.set(raw.data, { connection, unregister })
    receiveRawFrames(raw, connection)
  }

  /**
   * A task's terminal exists once its agent started; a client that opens the terminal right after
   * creating the task (the app does) waits for it instead of getting a 404. TaskTerminals cannot tell
   * an unknown task from one still starting, so an unknown id answers 404 only after the wait.
   */
  private async waitForTaskTerminal(sessionId: string, taskId: string, waitMs: number): Promise<Terminal | undefined> {
    const deadline = performance.now() + waitMs
    for (;;) {
      const terminal = this.deps.tasks.terminalFor(sessionId, taskId)
      if (terminal || performance.now() >= deadline) return terminal
      await Bun.sleep(25)
    }
  }
}
