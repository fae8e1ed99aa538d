import { Elysia, t } from 'elysia'
import { ErrorSchema, type AuthGuard } from '../auth'
import type { CommandRunner } from '../cmdexec'

export const CommandSchema = t.Object(
  {
    ok: t.Boolean({ description: 'True when the command exited with code 0 (false while running)' }),
    cmdId: t.String(),
    status: t.Union([t.Literal('running'), t.Literal('exited'), t.Literal('timedOut'), t.Literal('killed')]),
    code: t.Union([t.Integer(), t.Null()], { description: 'Exit code; 128 + signal number when a signal ended it; null while running' }),
    output: t.String({ description: 'The kept tail of stdout and stderr, interleaved as they arrived' }),
    durationMs: t.Number({ description: 'Run time so far, or until the command exited' }),
    timedOut: t.Boolean(),
    truncated: t.Boolean({ description: 'True when the start of the output was dropped to keep the tail within CMD_OUTPUT_LIMIT_BYTES' }),
  },
  { description: 'A command, running or finished' },
)

export const CommandStartedSchema = t.Object({ ok: t.Literal(true), cmdId: t.String(), status: t.Literal('running') })

export const CommandRequestSchema = t.Object({
  cmd: t.String({
    minLength: 1,
    maxLength: 8192,
    description:
      'Split into words like a POSIX shell (quotes honoured) and run without a shell: ";", "&&", "|", "$()", backticks and ' +
      'redirections are plain characters. It must equal a CMD_ALLOWLIST entry word for word; an entry ending in " *" also ' +
      'allows extra arguments. The program is found on the server\'s PATH, never in the repo. A newline or other control ' +
      'character outside quotes is refused with 400.',
  }),
  cwd: t.Optional(
    t.Union([t.String({ maxLength: 4096 }), t.Null()], {
      description: "Working directory: relative to the session's repo or an absolute path inside it; default the repo",
    }),
  ),
  timeoutMs: t.Optional(
    t.Union([t.Number({ exclusiveMinimum: 0 }), t.Null()], {
      description: 'Kill the whole process group after this long; capped by, and defaulting to, CMD_TIMEOUT_MAX_SECONDS',
    }),
  ),
})

const security = [{ bearerAuth: [] }]
const tags = ['commands']
const CommandIdSchema = t.Object({ id: t.String({ maxLength: 200 }) })

/**
 * `/api/cmd`: run an allowlisted command in the session's repo and read its result. Thin: the
 * CommandRunner owns policy, processes and output; this plugin validates and shapes JSON.
 */
export function createCmdRoutes({ auth, commands }: { auth: AuthGuard; commands: CommandRunner }) {
  return new Elysia({ name: 'routes.cmd', prefix: '/api/cmd' })
    .use(auth)
    .post(
      '/',
      ({ session, body, query, status }) => {
        const started = commands.start(session, { cmd: body.cmd, cwd: body.cwd ?? undefined, timeoutMs: body.timeoutMs ?? undefined })
        if (query.wait === true) return commands.wait(session.id, started.cmdId)
        return status(202, { ok: true as const, cmdId: started.cmdId, status: 'running' as const })
      },
      {
        body: CommandRequestSchema,
        query: t.Object({
          wait: t.Optional(t.Boolean({ description: 'Answer 200 with the final command once it ends, instead of 202 at once' })),
        }),
        response: {
          200: CommandSchema,
          202: CommandStartedSchema,
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
          409: ErrorSchema,
          422: ErrorSchema,
          429: ErrorSchema,
          503: ErrorSchema,
        },
        detail: {
          summary: 'Run an allowlisted command in the session repo',
          description:
            'Answers 202 `{ok, cmdId, status: "running"}` at once; output streams as `output` events `{cmdId, data}` on ' +
            '/ws/events and ends with one `exit` event `{cmdId, code, durationMs}`. With `?wait=true` it answers 200 with the ' +
            'final command when it ends (a client that disconnects does not stop it). 403 `command_not_allowed` for a command ' +
            'off the allowlist, 403 `path_not_allowed` for a cwd outside the repo, 400 `invalid_cwd` for a cwd that is not a ' +
            'directory, 400 `invalid_command` for an empty or unparsable cmd, 400 `program_not_found` for an allowed program ' +
            'that is not installed, 429 when CMD_CONCURRENCY commands already run in this session. Output events are coalesced ' +
            '(about every 50 ms, at most 16 KiB each) and one command streams at most 256 KiB/s; what is over that is ' +
            'announced in the stream and still kept in the tail. On timeout or cancel the whole process group is killed, and ' +
            'whatever a command leaves running in its group when it exits is killed too.',
          tags,
          security,
        },
      },
    )
    .get('/:id', ({ session, params }) => commands.get(session.id, params.id), {
      params: CommandIdSchema,
      response: { 200: CommandSchema, 401: ErrorSchema, 404: ErrorSchema },
      detail: {
        summary: 'A command of this session, running or finished',
        description:
          'The same object `?wait=true` answers. Finished commands are kept for a while (the 20 most recent per session) ' +
          "and forgotten when the session ends. Another session's command id answers 404 like an unknown one.",
        tags,
        security,
      },
    })
    .post('/:id/cancel', ({ session, params }) => commands.cancel(session.id, params.id), {
      params: CommandIdSchema,
      response: { 200: CommandSchema, 401: ErrorSchema, 404: ErrorSchema },
      detail: {
        summary: 'Cancel a running command (extension to the contract)',
        description:
          'Kills the command\'s whole process group (SIGTERM, then SIGKILL after a grace period) and answers the final ' +
          'command with status `killed`. A command that already finished is answered as it is.',
        tags,
        security,
      },
    })
}
