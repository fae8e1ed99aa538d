import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox'
import { ExitEvent, OutputEvent, schemaProblem, type EventDefinition, type OutgoingCheck } from '../events'
import { MAX_TERMINAL_SIZE } from '../pty/terminal'
import { TaskErrorEvent, TaskPatchEvent, TaskStatusEvent } from '../tasks/events'
import { ConfirmationEvent, ConfirmationResolvedEvent, MessageEvent, ToolEvent } from '../tasks/conversation-events'

/**
 * The catalogue of everything the two sockets carry, in both directions. The OpenAPI document
 * publishes every schema here (http/openapi.ts reads FRAME_SCHEMAS), incoming frames are checked
 * against them before anything acts on them, and what the server sends is checked as it is made
 * (events in events/bus.ts, the other frames by ServerFrames below; see events/outgoing-check.ts).
 *
 * To add an event: `defineEvent(...)` next to the code that emits it, one entry in
 * EVENT_DEFINITIONS below, a test that a published one validates. To add a client frame: its
 * schema below, one entry in EVENTS_CLIENT_FRAMES (or PTY_CLIENT_FRAMES), a `case` in the
 * connection that handles it.
 */
export const EVENT_DEFINITIONS = [
  TaskStatusEvent,
  OutputEvent,
  TaskPatchEvent,
  ExitEvent,
  TaskErrorEvent,
  MessageEvent,
  ToolEvent,
  ConfirmationEvent,
  ConfirmationResolvedEvent,
] as const satisfies readonly EventDefinition[]

const frame = <T extends TObject>(schema: T): T => schema

// Server → client frames that are not events: they carry no `seq` and are never replayed.
export const ResumeFrame = frame(
  Type.Object(
    {
      type: Type.Literal('resume'),
      status: Type.Union([Type.Literal('ok'), Type.Literal('gap')], { description: '`gap`: events the client asked for are gone; refetch over HTTP' }),
      epoch: Type.String(),
      lastSeq: Type.Integer({ minimum: 0, description: 'The newest seq of the session; events that follow have higher ones' }),
    },
    { title: 'ResumeFrame', description: 'First frame on /ws/events' },
  ),
)
export const PongFrame = frame(Type.Object({ type: Type.Literal('pong') }, { title: 'PongFrame', description: 'Answer to ping' }))
export const AckFrame = frame(
  Type.Object(
    {
      type: Type.Literal('ack'),
      for: Type.Union([Type.Literal('user_message'), Type.Literal('confirmation')]),
      taskId: Type.Optional(Type.String({ description: 'user_message: the task that took it' })),
      started: Type.Optional(Type.Boolean({ description: 'user_message: a new task was made for it' })),
      queued: Type.Optional(Type.Boolean({ description: 'user_message: a turn was running, the follow-up waits for it' })),
      messageId: Type.Optional(Type.String({ description: 'confirmation: the approval answered' })),
      outcome: Type.Optional(Type.String({ description: 'confirmation: allowed or rejected' })),
      ts: Type.String({ format: 'date-time' }),
    },
    { title: 'AckFrame', description: 'A user_message was delivered to a task, or a confirmation answered an approval' },
  ),
)
export const FrameErrorFrame = frame(
  Type.Object(
    {
      type: Type.Literal('error'),
      error: Type.String({ description: 'Machine code, e.g. bad_frame, bad_terminal_size' }),
      message: Type.String(),
      for: Type.String({ description: 'The type of the frame this answers' }),
      messageId: Type.Optional(Type.String({ description: 'confirmation: the approval it named' })),
      ts: Type.String({ format: 'date-time' }),
    },
    { title: 'FrameErrorFrame', description: "A client's frame was refused; the socket stays open. No seq: it is not an event" },
  ),
)
export const PtyExitFrame = frame(
  Type.Object(
    { type: Type.Literal('exit'), code: Type.Integer({ description: '128 + signal number when a signal ended it' }), durationMs: Type.Number(), signal: Type.Optional(Type.String()) },
    { title: 'PtyExitFrame', description: "/ws/pty: the terminal's process exited; the socket closes next" },
  ),
)

// Client → server frames.
const size = Type.Integer({ minimum: 1, maximum: MAX_TERMINAL_SIZE })
export const ResizeFrame = frame(
  Type.Object({ type: Type.Literal('resize'), cols: size, rows: size }, { title: 'ResizeFrame', description: "Resizes the session's terminal (both sockets)" }),
)
export const PingFrame = frame(Type.Object({ type: Type.Literal('ping') }, { title: 'PingFrame' }))
export const UserMessageFrame = frame(
  Type.Object(
    {
      type: Type.Literal('user_message'),
      content: Type.String({ minLength: 1, pattern: '\\S' }),
      taskId: Type.Optional(Type.String()),
      timestamp: Type.Optional(Type.Unknown({ description: 'Sent by the app; ignored' })),
    },
    { title: 'UserMessageFrame', description: "A follow-up: to taskId's conversation, else the newest running or completed task (none: a new task with DEFAULT_AGENT)" },
  ),
)
export const ConfirmationFrame = frame(
  Type.Object(
    {
      type: Type.Literal('confirmation'),
      messageId: Type.String({ minLength: 1, maxLength: 200 }),
      confirmed: Type.Boolean({ description: 'true without optionId = the allow_once option, false = reject_once' }),
      optionId: Type.Optional(Type.String({ maxLength: 200 })),
    },
    { title: 'ConfirmationFrame', description: 'Answers a pending approval (the app ChatScreen sends exactly this); the first answer wins' },
  ),
)
export const PtyInputFrame = frame(
  Type.Object({ type: Type.Literal('input'), data: Type.String() }, { title: 'PtyInputFrame', description: '/ws/pty: typed into the terminal; any other text or binary frame is typed as it is' }),
)

/** Client frames /ws/events understands, by type. */
export const EVENTS_CLIENT_FRAMES = { ping: PingFrame, resize: ResizeFrame, user_message: UserMessageFrame, confirmation: ConfirmationFrame } as const
/** JSON frames /ws/pty understands; everything else is keystrokes. */
export const PTY_CLIENT_FRAMES = { resize: ResizeFrame, input: PtyInputFrame } as const

export type ResizeFrameData = Static<typeof ResizeFrame>

/** Every socket schema by its component name, for the OpenAPI document. */
export const FRAME_SCHEMAS: Readonly<Record<string, TSchema>> = Object.freeze({
  ...Object.fromEntries(EVENT_DEFINITIONS.map((definition) => [definition.name, definition.schema])),
  ResumeFrame,
  PongFrame,
  AckFrame,
  FrameErrorFrame,
  PtyExitFrame,
  ResizeFrame,
  PingFrame,
  UserMessageFrame,
  ConfirmationFrame,
  PtyInputFrame,
})

/** Null when a client's frame fits `schema`, else one sentence naming the first wrong field. */
export const frameProblem = schemaProblem

type ResumeFields = Omit<Static<typeof ResumeFrame>, 'type'>
type AckFields = Omit<Static<typeof AckFrame>, 'type' | 'ts'>
type PtyExitFields = Omit<Static<typeof PtyExitFrame>, 'type'>

/**
 * The frames the server sends that are not events, made here and only here, each checked against
 * its schema as it is made (events are checked once when published, in events/bus.ts). What a
 * failed check does is the OutgoingCheck's mode: throw in tests, log and send in the server.
 * These are rare (one resume per connect, one reply per client frame), so the check is free.
 */
export class ServerFrames {
  /** The one frame with no variable part: checked once, sent as this text. */
  readonly pong: string

  constructor(private readonly outgoing: OutgoingCheck) {
    this.pong = this.text(PongFrame, { type: 'pong' })
  }

  resume(fields: ResumeFields): string {
    return this.text(ResumeFrame, { type: 'resume', ...fields })
  }

  ack(fields: AckFields): string {
    return this.text(AckFrame, { type: 'ack', ...fields, ts: new Date().toISOString() })
  }

  /** The reply to a refused frame. */
  error(frameType: string, message: string, kind = 'bad_frame', messageId?: string): string {
    return this.text(FrameErrorFrame, { type: 'error', error: kind, message, for: frameType, ...(messageId !== undefined ? { messageId } : {}), ts: new Date().toISOString() })
  }

  ptyExit(fields: PtyExitFields): string {
    return this.text(PtyExitFrame, { type: 'exit', ...fields })
  }

  private text<T extends TObject>(schema: T, frame: Static<T>): string {
    this.outgoing.check(schema, frame)
    return JSON.stringify(frame)
  }
}
