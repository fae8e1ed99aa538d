import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard } from '../auth'
import { TASK_LIMITS, type TaskService } from '../tasks'
import { PatchesSchema } from './schemas'
import { ApprovalOutcome, ApprovalResolver, ApprovalTool, MessageRole, PermissionOption } from '../tasks/conversation-events'

export const MessageSchema = t.Object({ messageId: t.String(), role: MessageRole, content: t.String(), ts: t.String({ format: 'date-time' }) })

export const ApprovalSchema = t.Object({
  messageId: t.String(),
  content: t.String(),
  tool: ApprovalTool,
  options: t.Array(PermissionOption),
  status: t.Union([t.Literal('pending'), ApprovalOutcome]),
  createdAt: t.String({ format: 'date-time' }),
  expiresAt: t.Optional(t.String({ format: 'date-time' })),
  resolvedAt: t.Optional(t.String({ format: 'date-time' })),
  optionId: t.Optional(t.String()),
  by: t.Optional(ApprovalResolver),
})

const ApprovalIdSchema = t.Object({ id: t.String({ maxLength: 200 }), messageId: t.String({ maxLength: 200 }) })

export const TaskStatusSchema = t.Union([
  t.Literal('pending'),
  t.Literal('running'),
  t.Literal('completed'),
  t.Literal('failed'),
  t.Literal('cancelled'),
  t.Literal('applied'),
])

export const TaskSchema = t.Object({
  taskId: t.String(),
  id: t.String({ description: 'Same as taskId' }),
  status: TaskStatusSchema,
  phase: t.Optional(
    t.Union([t.Literal('workspace'), t.Literal('agent'), t.Literal('awaiting_input'), t.Literal('awaiting_approval'), t.Literal('diff')], {
      description: 'workspace, agent, awaiting_input (a print-mode agent asked on its terminal), awaiting_approval (an acp agent waits on a confirmation) or diff',
    }),
  ),
  agent: t.String(),
  instruction: t.String(),
  branch: t.Union([t.String(), t.Null()]),
  startedAt: t.String({ format: 'date-time', description: 'When the agent started (the creation time until then)' }),
  createdAt: t.String({ format: 'date-time' }),
  updatedAt: t.String({ format: 'date-time' }),
  endedAt: t.Optional(t.String({ format: 'date-time' })),
  exitCode: t.Optional(t.Number({ description: "The agent's exit code; absent when it was killed" })),
  error: t.Optional(t.String()),
  patchCount: t.Number(),
  commit: t.Optional(t.String({ description: 'The commit apply made' })),
})

export const TaskRequestSchema = t.Object({
  instruction: t.String({ minLength: 1, maxLength: TASK_LIMITS.maxInstructionChars, description: 'What the agent should do' }),
  branch: t.Optional(t.Union([t.String({ maxLength: TASK_LIMITS.maxBranchChars }), t.Null()], { description: 'Branch apply commits to by default' })),
  context: t.Optional(
    // Checked as a plain object by the tasks layer: a typed schema here lets Elysia coerce a
    // string into an object with one key per character (seconds of work for 1 MB).
    t.Unknown({
      description:
        'Free-form; the mock agent reads context.mock = {delayMs?, edits?: [{file, content|null}], fail?, output?, prompt? (print mode), ask?: {title, kind?: execute|edit|other, command?, repeat?} (acp mode: asks permission first)}',
    }),
  ),
  agent: t.Optional(t.Union([t.String({ maxLength: 64 }), t.Null()], { description: 'An agent from GET /api/agents; default DEFAULT_AGENT' })),
})

export const ApplyRequestSchema = t.Object({
  select: t.Optional(
    t.Array(
      t.Object({
        file: t.String({ minLength: 1, maxLength: 4096 }),
        hunks: t.Optional(t.Array(t.Integer({ description: 'Out of range (negative or past the last hunk): 400 invalid_selection' }), { description: '0-based indices into the patch hunks; omitted = the whole file' })),
      }),
      { maxItems: 10_000, description: 'Omitted = everything; entries for one file are merged' },
    ),
  ),
  commitMessage: t.Optional(t.String({ maxLength: TASK_LIMITS.maxCommitMessageChars, description: "Default: the instruction's first line" })),
  branch: t.Optional(t.String({ maxLength: TASK_LIMITS.maxBranchChars })),
})

export const ApplyResultSchema = t.Object({
  ok: t.Literal(true),
  commit: t.String({ description: '40-hex SHA of the new commit' }),
  branch: t.String(),
  applied: t.Array(t.Object({ file: t.String(), hunks: t.Array(t.Number()) })),
})

const TaskIdSchema = t.Object({ id: t.String({ maxLength: 200 }) })

export const TaskDeletedSchema = t.Object({ ok: t.Literal(true), taskId: t.String() })
const security = [{ bearerAuth: [] }]
const tags = ['tasks']

export function createTaskRoutes({ auth, tasks }: { auth: AuthGuard; tasks: TaskService }) {
  return new Elysia({ name: 'routes.tasks', prefix: '/api/tasks' })
    .use(auth)
    .post(
      '/',
      async ({ session, body, set }) => {
        const task = await tasks.create(session, body)
        set.status = 202
        return task
      },
      {
        body: TaskRequestSchema,
        // 503 while the server shuts down (tasks and applies in flight finish; new ones wait for the restart).
        response: { 202: TaskSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema, 507: ErrorSchema },
        detail: {
          summary: 'Start a task: the agent works in a workspace of its own, the session repo is untouched until apply',
          tags,
          security,
        },
      },
    )
    .get('/', ({ session }) => tasks.list(session.id), {
      response: { 200: t.Array(TaskSchema), 401: ErrorSchema },
      detail: { summary: "The session's tasks, newest first", tags, security },
    })
    .get('/:id', ({ session, params }) => tasks.get(session, params.id), {
      params: TaskIdSchema,
      response: { 200: TaskSchema, 401: ErrorSchema, 404: ErrorSchema },
      detail: { summary: 'One task', tags, security },
    })
    .delete(
      '/:id',
      async ({ session, params }) => {
        await tasks.remove(session, params.id)
        return { ok: true as const, taskId: params.id }
      },
      {
        params: TaskIdSchema,
        response: { 200: TaskDeletedSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        detail: { summary: 'Cancel the task if it runs, then remove it and its workspace (404 afterwards)', tags, security },
      },
    )
    .post('/:id/cancel', ({ session, params }) => tasks.cancel(session, params.id), {
      params: TaskIdSchema,
      response: { 200: TaskSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      detail: { summary: "Stop the agent's whole process tree; the task ends cancelled (409 once it has ended)", tags, security },
    })
    .post(
      '/:id/messages',
      async ({ session, params, body, set }) => {
        const result = await tasks.sendUserMessage(session, body.content as string, params.id)
        set.status = 202
        return result
      },
      {
        params: TaskIdSchema,
        // Checked by the tasks layer (a non-empty string up to TASK_LIMITS.maxUserMessageChars): a typed
        // schema here made Elysia 1.4.30 fail with a 500 ("No default value") on some hostile bodies.
        body: t.Object({ content: t.Unknown({ description: `The follow-up, a non-empty string of at most ${TASK_LIMITS.maxUserMessageChars} characters` }) }),
        response: {
          202: t.Object({
            taskId: t.String(),
            started: t.Boolean({ description: 'Always false here: the message went to this task' }),
            queued: t.Boolean({ description: 'A turn was running: the message waits for it to end' }),
          }),
          400: ErrorSchema,
          401: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
          429: ErrorSchema,
        },
        detail: {
          summary: 'A follow-up in the task\'s conversation (acp mode; queued while a turn runs); typed into a running print-mode agent. 409 once applied or cancelled',
          tags,
          security,
        },
      },
    )
    .get('/:id/messages', ({ session, params }) => ({ messages: tasks.messages(session, params.id).map(({ messageId, role, content, ts }) => ({ messageId, role, content, ts })) }), {
      params: TaskIdSchema,
      response: { 200: t.Object({ messages: t.Array(MessageSchema) }), 401: ErrorSchema, 404: ErrorSchema },
      detail: { summary: 'The whole conversation in order: the instruction, follow-ups and agent messages', tags, security },
    })
    .get(
      '/:id/approvals',
      ({ session, params }) => ({
        approvals: tasks.approvalsOf(session, params.id).map((a) => ({
          messageId: a.messageId,
          content: a.content,
          tool: a.tool,
          options: a.options,
          status: a.status,
          createdAt: a.createdAt,
          ...(a.expiresAt !== null ? { expiresAt: a.expiresAt } : {}),
          ...(a.resolvedAt !== null ? { resolvedAt: a.resolvedAt } : {}),
          ...(a.optionId !== null ? { optionId: a.optionId } : {}),
          ...(a.by !== null ? { by: a.by } : {}),
        })),
      }),
      {
        params: TaskIdSchema,
        response: { 200: t.Object({ approvals: t.Array(ApprovalSchema) }), 401: ErrorSchema, 404: ErrorSchema },
        detail: { summary: "The task's permission requests, pending and resolved, oldest first", tags, security },
      },
    )
    .post('/:id/approvals/:messageId', ({ session, params, body }) => tasks.answerApproval(session, params.messageId, body, params.id), {
      params: ApprovalIdSchema,
      body: t.Object({
        confirmed: t.Boolean({ description: 'true without optionId = the allow_once option, false = reject_once' }),
        optionId: t.Optional(t.String({ maxLength: 200, description: 'One of the confirmation\'s options' })),
      }),
      response: {
        200: t.Object({ messageId: t.String(), outcome: ApprovalOutcome }),
        400: ErrorSchema,
        401: ErrorSchema,
        404: ErrorSchema,
        409: ErrorSchema,
      },
      detail: { summary: 'Answer a pending approval; the first answer wins (409 saying how it was resolved)', tags, security },
    })
    .get('/:id/patches', async ({ session, params }) => ({ patches: await tasks.patches(session, params.id) }), {
      params: TaskIdSchema,
      response: { 200: PatchesSchema, 401: ErrorSchema, 404: ErrorSchema },
      detail: { summary: "The task's changes against its baseline (live while it runs, empty while nothing changed)", tags, security },
    })
    .post('/:id/apply', ({ session, params, body }) => tasks.apply(session, params.id, body), {
      params: TaskIdSchema,
      body: ApplyRequestSchema,
      response: {
        200: ApplyResultSchema,
        400: ErrorSchema,
        401: ErrorSchema,
        404: ErrorSchema,
        409: ErrorSchema,
        503: ErrorSchema,
      },
      detail: {
        summary: 'Apply a completed task to the session repo and commit: all or nothing (409 naming the file and hunk that no longer applies)',
        tags,
        security,
      },
    })
}
