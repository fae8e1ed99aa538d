import { Type as t, type Static } from '@sinclair/typebox'
import { defineEvent, type EventDefinition, type EventFields } from '../events'

/**
 * The events a conversation (a task in acp mode) publishes on its session's bus, declared once
 * here next to their emitter; the bus adds `seq`, `ts` and `epoch`. Field names are the contract's.
 */

/** How a conversation and the approvals publish on their session's bus. */
export type Publish = <D extends EventDefinition>(definition: D, fields: EventFields<D>) => void

export const MessageRole = t.Union([t.Literal('agent'), t.Literal('user')])

export const ToolKind = t.String({ description: 'ACP tool kind: read, edit, delete, move, search, execute, think, fetch, switch_mode or other' })

export const ToolStatus = t.Union([t.Literal('pending'), t.Literal('in_progress'), t.Literal('completed'), t.Literal('failed')])

export const ToolLocation = t.Object({ path: t.String(), line: t.Optional(t.Number()) })

export const PermissionOptionKind = t.Union([t.Literal('allow_once'), t.Literal('allow_always'), t.Literal('reject_once'), t.Literal('reject_always')])

export const PermissionOption = t.Object({ optionId: t.String(), name: t.String(), kind: PermissionOptionKind })

export const ApprovalTool = t.Object({
  title: t.String(),
  kind: ToolKind,
  command: t.Optional(t.String()),
  paths: t.Optional(t.Array(t.String())),
})

export const ApprovalOutcome = t.Union([t.Literal('allowed'), t.Literal('rejected'), t.Literal('expired'), t.Literal('cancelled')])
export const ApprovalResolver = t.Union([t.Literal('client'), t.Literal('policy'), t.Literal('timeout'), t.Literal('cancel')])

export const MessageEvent = defineEvent(
  'message',
  { taskId: t.String(), messageId: t.String(), role: MessageRole, content: t.String({ description: 'Plain text, shown as is' }) },
  'A line of a conversation: agent text (chunks coalesced, a new messageId per agent message), or a user follow-up echoed',
)

export const ToolEvent = defineEvent(
  'tool',
  { taskId: t.String(), toolCallId: t.String(), title: t.String(), kind: ToolKind, status: ToolStatus, locations: t.Optional(t.Array(ToolLocation)) },
  "An ACP agent's tool call, as it reports it",
)

export const ConfirmationEvent = defineEvent(
  'confirmation',
  {
    taskId: t.String(),
    messageId: t.String({ description: 'Answer with {"type":"confirmation","messageId","confirmed"} or POST /api/tasks/{id}/approvals/{messageId}' }),
    content: t.String({ description: 'One sentence a person can decide on' }),
    tool: ApprovalTool,
    options: t.Array(PermissionOption),
    expiresAt: t.String({ format: 'date-time' }),
  },
  'An ACP agent asks permission; APPROVAL_POLICY decided it already when confirmation_resolved by policy follows',
)

export const ConfirmationResolvedEvent = defineEvent(
  'confirmation_resolved',
  { taskId: t.String(), messageId: t.String(), outcome: ApprovalOutcome, optionId: t.Optional(t.String()), by: ApprovalResolver },
  'How a confirmation was answered: by a client, the policy, the timeout (expired: the agent was told no) or a cancel',
)

export type ApprovalTool = Static<typeof ApprovalTool>
export type PermissionOption = Static<typeof PermissionOption>
export type ApprovalOutcome = Static<typeof ApprovalOutcome>
export type ApprovalResolver = Static<typeof ApprovalResolver>
export type ToolLocation = Static<typeof ToolLocation>
export type ToolStatus = Static<typeof ToolStatus>
