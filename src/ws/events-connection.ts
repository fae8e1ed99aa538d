import type { EventBus } from '../events'
import { AppError } from '../errors'
import { describeError, type Logger } from '../logger'
import type { Session } from '../session'
import type { ClientSocket } from './client-socket'
import type { TaskTerminals } from './task-terminals'
import { eventText } from './events-fanout'
import { EVENTS_CLIENT_FRAMES, frameProblem, type ServerFrames } from './frames'
import type { TerminalManager } from '../pty/manager'

type EventsDeps = {
  session: Session
  bus: EventBus
  terminals: TerminalManager
  tasks: TaskTerminals
  /** Starts live delivery to this socket (EventsFanout.join); returns the way to stop it. */
  goLive: () => () => void
  /** Builds (and checks) the replies: resume, pong, ack, error. */
  frames: ServerFrames
  logger: Logger
}

/**
 * One `/ws/events` client. On connect it always gets a `resume` frame first (`ok`, or `gap` when
 * events it asked for are gone), then the kept events after its resumeSeq in order, then live
 * ones. Without resumeSeq (a fresh client) the frame is `ok` and only live events follow; the
 * frame names the newest seq as `lastSeq` (not `seq`: only events carry `seq`, and replayed ones
 * would then arrive with lower numbers) and the `epoch`, so such a client knows where to resume.
 * Replies to this socket's own frames (`pong`, `ack`, `error` about a frame) carry no `seq`:
 * they are not part of the session's event stream and are never replayed.
 */
export class EventsConnection {
  private unsubscribe: (() => void) | undefined

  constructor(
    private readonly socket: ClientSocket,
    private readonly deps: EventsDeps,
  ) {}

  start(resumeSeq: number | undefined, epoch: string | undefined): void {
    const { bus } = this.deps
    const replay = resumeSeq === undefined ? { status: 'ok' as const, events: [] } : bus.replay(resumeSeq, epoch)
    // A seq this bus never reached comes from before a restart, even when no epoch was sent.
    const status = resumeSeq !== undefined && resumeSeq > bus.lastSeq ? 'gap' : replay.status
    // Replay and subscription in one synchronous step: publish() cannot run in between.
    this.socket.send(this.deps.frames.resume({ status, epoch: bus.epoch, lastSeq: bus.lastSeq }))
    for (const event of replay.events) this.socket.send(eventText(event))
    this.unsubscribe = this.deps.goLive()
  }

  message(message: string | Buffer | ArrayBuffer | Uint8Array): void {
    if (typeof message !== 'string') return this.reject('binary', 'Binary frames are not understood here; send JSON text frames.')
    let frame: unknown
    try {
      frame = JSON.parse(message)
    } catch {
      return this.reject('invalid_json', 'The frame is not JSON; send {"type": ...} objects.')
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') {
      return this.reject('missing_type', 'Each frame must be a JSON object with a string "type".')
    }
    const type = (frame as { type: string }).type
    if (!Object.hasOwn(EVENTS_CLIENT_FRAMES, type)) {
      const known = Object.keys(EVENTS_CLIENT_FRAMES).join(', ')
      return this.reject(type, `Unknown message type "${type}"; this server understands ${known}.`)
    }
    const name = type as keyof typeof EVENTS_CLIENT_FRAMES
    const problem = frameProblem(EVENTS_CLIENT_FRAMES[name], frame)
    if (problem) return this.reject(name, `The ${name} frame is not valid: ${problem}.`, name === 'resize' ? 'bad_terminal_size' : 'bad_frame')
    const fields = frame as Record<string, unknown>
    switch (name) {
      case 'ping':
        this.socket.send(this.deps.frames.pong)
        return
      case 'resize':
        return this.resize(fields.cols as number, fields.rows as number)
      case 'user_message':
        return this.userMessage(fields.content as string, fields.taskId as string | undefined)
      case 'confirmation':
        return this.confirmation(fields.messageId as string, fields.confirmed as boolean, fields.optionId as string | undefined)
    }
  }

  closed(): void {
    this.socket.closed()
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }

  private resize(cols: number, rows: number): void {
    try {
      this.deps.terminals.resize(this.deps.session.id, cols, rows)
    } catch (error) {
      this.replyError('resize', error)
    }
  }

  private userMessage(content: string, taskId: string | undefined): void {
    this.deps.tasks.sendUserMessage(this.deps.session, content, taskId).then(
      ({ taskId, started, queued }) => this.socket.send(this.deps.frames.ack({ for: 'user_message', taskId, started, queued })),
      (error: unknown) => this.replyError('user_message', error),
    )
  }

  /** The app's ChatScreen answer to a `confirmation` event; the first answer wins. */
  private confirmation(messageId: string, confirmed: boolean, optionId: string | undefined): void {
    try {
      const { outcome } = this.deps.tasks.answerApproval(this.deps.session, messageId, { confirmed, ...(optionId !== undefined ? { optionId } : {}) })
      this.socket.send(this.deps.frames.ack({ for: 'confirmation', messageId, outcome }))
    } catch (error) {
      if (error instanceof AppError) {
        this.socket.send(this.deps.frames.error('confirmation', error.message, error.kind, messageId))
        return
      }
      this.replyError('confirmation', error)
    }
  }

  private replyError(frameType: string, error: unknown): void {
    if (error instanceof AppError) return this.reject(frameType, error.message, error.kind)
    this.deps.logger.error('an events socket frame failed', { frame: frameType, error: describeError(error) })
    this.reject(frameType, `The ${frameType} could not be handled; see the server log.`, 'internal')
  }

  private reject(frameType: string, message: string, kind = 'bad_frame'): void {
    this.socket.send(this.deps.frames.error(frameType, message, kind))
  }
}
