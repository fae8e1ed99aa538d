import { Elysia } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
// The API reference UI, pinned (@scalar/api-reference 1.72.1, a dev dependency) and embedded by
// `bun build --compile`, so /swagger works with no network. The package's exports do not list
// its browser bundle, hence the path.
import scalarScript from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with { type: 'file' }
import { importLazy } from '../lazy-packages'
import { FRAME_SCHEMAS } from '../ws/frames'

export const SCALAR_SCRIPT_PATH = '/swagger/assets/scalar-api-reference-1.72.1.js'

type Operation = {
  security?: Record<string, unknown>[]
  parameters?: unknown[]
  requestBody?: { content?: Record<string, unknown> }
  responses?: Record<string, { content?: Record<string, unknown>; description?: string }>
}
type Document = { paths?: Record<string, Record<string, Operation>> }

const ERROR_REF = { $ref: '#/components/schemas/Error' }

const RESPONSE_KEYS = new Set(['description', 'content', 'headers', 'links'])

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK', '201': 'Created', '202': 'Accepted', '400': 'Bad input', '401': 'Missing, invalid or expired token',
  '403': 'A Host outside ALLOWED_HOSTS, or refused by an allowlist', '404': 'Unknown id', '409': 'Conflict', '413': 'Body over BODY_LIMIT_BYTES',
  '422': 'Body, query or path does not fit the schema', '429': 'Too many at once', '503': 'Unavailable', '507': 'Out of workspace space',
}

const errorResponse = (status: string) => ({ description: STATUS_TEXT[status]!, content: { 'application/json': { schema: ERROR_REF } } })

/**
 * What http/ answers on any route, whatever the route does: the Host check (403) runs on every
 * request; every POST and DELETE body is read (400 invalid_json or too_deep, 413 over
 * BODY_LIMIT_BYTES) even where the route takes none; a schema'd path, query or body answers 422.
 */
function globalStatuses(method: string, operation: Operation): string[] {
  const statuses = ['403']
  if (method === 'post' || method === 'delete' || method === 'put' || method === 'patch') statuses.push('400', '413')
  if (operation.requestBody || (operation.parameters?.length ?? 0) > 0) statuses.push('422')
  if (operation.security?.some((entry) => 'bearerAuth' in entry || 'pairingToken' in entry)) statuses.push('401')
  return statuses
}

/**
 * What @elysiajs/swagger 1.3.1 generates, corrected to what the server does: bodies are JSON
 * only (it advertises multipart and text, which the server refuses), one path per route (it
 * lists `/api/session/` beside `/api/session`), and every status http/ itself answers on a route
 * (globalStatuses) listed beside the route's own.
 */
export function correctDocument<T>(generated: T): T {
  // A copy: the document holds the very schema objects the routes validate with.
  const document = structuredClone(generated)
  downgradeSchemas(document)
  const doc = document as Document
  const paths = doc.paths ?? {}
  for (const path of Object.keys(paths)) {
    const trimmed = path.replace(/\/+$/, '')
    if (trimmed !== path && trimmed !== '') {
      paths[trimmed] = { ...paths[path], ...paths[trimmed] }
      delete paths[path]
    }
  }
  for (const operations of Object.values(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const body = operation.requestBody?.content
      if (body && 'application/json' in body) operation.requestBody!.content = { 'application/json': body['application/json'] }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        response.description ??= STATUS_TEXT[status] ?? 'Answer'
        // The plugin spreads an array schema's own keys (type, items) into the response object.
        for (const key of Object.keys(response)) {
          if (!RESPONSE_KEYS.has(key) && !key.startsWith('x-')) delete (response as Record<string, unknown>)[key]
        }
        if (response.content && 'application/json' in response.content) response.content = { 'application/json': response.content['application/json'] }
      }
      operation.responses ??= {}
      for (const status of globalStatuses(method, operation)) operation.responses[status] ??= errorResponse(status)
    }
  }
  return document
}

/**
 * TypeBox writes JSON Schema 2020 keywords that OpenAPI 3.0 does not have: `const` (a literal)
 * becomes a one-value `enum`, `type: "null"` becomes `nullable`, a numeric exclusive bound a
 * bound with `exclusiveMinimum: true`.
 */
function downgradeSchemas(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) downgradeSchemas(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const object = node as Record<string, unknown>
  if ('const' in object && !('properties' in object)) {
    object.enum = [object.const]
    delete object.const
  }
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof object[exclusive] === 'number') {
      object[bound] = object[exclusive]
      object[exclusive] = true
    }
  }
  if (object.type === 'null') {
    delete object.type
    object.nullable = true
  }
  for (const value of Object.values(object)) downgradeSchemas(value)
}

const sessionQuery = [
  { name: 'sessionId', in: 'query', required: false, schema: { type: 'string' }, description: "The token's session; another session's id is refused with 401" },
  { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'The session JWT (or Authorization: Bearer)' },
]

const frameRefs = (names: string[]) => ({ oneOf: names.map((name) => ({ $ref: `#/components/schemas/${name}` })) })

/** The two WebSockets as OpenAPI can say it: a GET that upgrades, its query, and the frames each way. */
function socketPaths(eventNames: string[]) {
  const refusals = {
    '401': { description: 'Bad token, or a sessionId that is not the token\'s', content: { 'application/json': { schema: ERROR_REF } } },
    '403': { description: 'A browser Origin outside CORS_ORIGINS', content: { 'application/json': { schema: ERROR_REF } } },
  }
  return {
    '/ws/pty': {
      get: {
        tags: ['websocket'],
        summary: 'Live terminal (WebSocket)',
        description:
          'Server → client: raw terminal output as text frames, then PtyExitFrame and close; FrameErrorFrame for a bad resize. ' +
          'Client → server: ResizeFrame, PtyInputFrame, or any other text/binary frame typed as it is.',
        security: [{ bearerAuth: [] }],
        parameters: [
          ...sessionQuery,
          { name: 'cols', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'rows', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'taskId', in: 'query', required: false, schema: { type: 'string' }, description: "Watch this task's agent terminal" },
        ],
        responses: {
          '101': { description: 'Upgraded', 'x-server-frames': frameRefs(['PtyExitFrame', 'FrameErrorFrame']), 'x-client-frames': frameRefs(['ResizeFrame', 'PtyInputFrame']) },
          '400': { description: 'Bad cols/rows', content: { 'application/json': { schema: ERROR_REF } } },
          '404': { description: 'Unknown taskId', content: { 'application/json': { schema: ERROR_REF } } },
          '409': { description: "The session's repository no longer exists", content: { 'application/json': { schema: ERROR_REF } } },
          '429': { description: 'PTY_MAX_PER_SESSION clients already watch this terminal', content: { 'application/json': { schema: ERROR_REF } } },
          '503': { description: 'PTY_MAX_TOTAL terminals already run, the shell could not start, or the server is shutting down', content: { 'application/json': { schema: ERROR_REF } } },
          ...refusals,
        },
      },
    },
    '/ws/events': {
      get: {
        tags: ['websocket'],
        summary: 'Session events (WebSocket)',
        description:
          'Server → client: ResumeFrame first, then events (each with seq, strictly increasing), PongFrame, AckFrame, FrameErrorFrame. ' +
          'Client → server: PingFrame, ResizeFrame, UserMessageFrame.',
        security: [{ bearerAuth: [] }],
        parameters: [
          ...sessionQuery,
          { name: 'resumeSeq', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'Replay kept events with a higher seq' },
          { name: 'epoch', in: 'query', required: false, schema: { type: 'string' }, description: 'The epoch of the events the client saw' },
        ],
        responses: {
          '101': {
            description: 'Upgraded',
            'x-server-frames': frameRefs(['ResumeFrame', ...eventNames, 'PongFrame', 'AckFrame', 'FrameErrorFrame']),
            'x-client-frames': frameRefs(['PingFrame', 'ResizeFrame', 'UserMessageFrame']),
          },
          ...refusals,
        },
      },
    },
  }
}

type SwaggerOptions = NonNullable<Parameters<typeof import('@elysiajs/swagger').swagger>[0]>

type GlobalView = { getGlobalRoutes(): unknown; getGlobalDefinitions(): unknown }

/** The plugin's two answers: the UI page (one Response, cloned per request) and the document maker. */
type LoadedDocs = { page: Response; document: () => unknown }

/**
 * /swagger (the UI, served from the binary) and /swagger/json (OpenAPI 3 with every schema named).
 * @elysiajs/swagger makes both; it is loaded on the first request for either, not at start-up:
 * evaluating it (its theme package brings zod 3) was about a tenth of start to healthy, for pages
 * most starts never serve. The plugin is not `.use`d: its routes' answers are called from the two
 * routes here, and it reads the app's routes through this plugin, which Elysia points at the app.
 */
export function createApiDocs({ version, schemas, eventNames }: { version: string; schemas: Record<string, TSchema>; eventNames: string[] }) {
  const options: SwaggerOptions = {
    path: '/swagger',
    scalarCDN: SCALAR_SCRIPT_PATH,
    // No font CDN either: the system's fonts.
    scalarConfig: { withDefaultFonts: false } as Record<string, unknown>,
    documentation: {
      info: {
        title: 'Cockpit Coder',
        version,
        description:
          'Drive coding agents on this machine from a phone. All /api routes need `Authorization: Bearer <session token>` ' +
          '(POST /api/session takes the pairing token). WebSockets: /ws/pty and /ws/events take `?sessionId=&token=`; ' +
          'their frames are the *Frame and *Event schemas.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Session token from POST /api/session' },
          pairingToken: { type: 'http', scheme: 'bearer', description: 'Pairing token printed at start-up' },
        },
        schemas: { ...schemas, ...FRAME_SCHEMAS } as never,
      },
      paths: socketPaths(eventNames) as never,
      tags: [
        { name: 'server', description: 'Health' },
        { name: 'session', description: 'Pairing and sessions' },
        { name: 'git', description: 'Diff and status of the session repo' },
        { name: 'commands', description: 'Allowlisted commands, run without a shell' },
        { name: 'tasks', description: 'Agents and their tasks: run, watch, review patches, apply' },
        { name: 'websocket', description: '/ws/pty (terminal) and /ws/events (event stream); upgrade with ?sessionId=&token=' },
      ],
    },
  }
  const docs = new Elysia({ name: 'http.openapi' })
  let loaded: Promise<LoadedDocs> | null = null
  const load = () =>
    (loaded ??= importLazy('@elysiajs/swagger').then(({ swagger }) => {
      const plugin = swagger(options)
      // Protected in Elysia's types; Elysia itself rebinds them on every plugin it uses.
      const forwarded = plugin as unknown as GlobalView
      const ours = docs as unknown as GlobalView
      forwarded.getGlobalRoutes = () => ours.getGlobalRoutes()
      forwarded.getGlobalDefinitions = () => ours.getGlobalDefinitions()
      const handler = (path: string) => plugin.routes.find((route) => route.method === 'GET' && route.path === path)?.handler
      const page = handler('/swagger')
      const document = handler('/swagger/json')
      if (!(page instanceof Response) || typeof document !== 'function') throw new Error('@elysiajs/swagger no longer makes /swagger and /swagger/json as this server expects')
      return { page, document: document as () => unknown }
    }))
  const hide = { detail: { hide: true } }
  return docs
    .get(SCALAR_SCRIPT_PATH, () => new Response(Bun.file(scalarScript), { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), hide)
    .get('/swagger', async () => (await load()).page.clone(), hide)
    .get('/swagger/json', async () => correctDocument((await load()).document()), hide)
}
