import { Elysia, ValidationError } from 'elysia'
import type { Config } from '../config'
import { readJsonBody } from './body'
import { cors } from '@elysiajs/cors'
import { AppError } from '../errors'
import { appErrorResponse } from './errors'
import { isAllowedHost, isAllowedOrigin, isPageOrigin, redactUrl } from './host'
import type { Logger } from '../logger'

type HttpDeps = { config: Config; logger: Logger }

function errorResponse(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status })
}

/** The field a TypeBox error is about, as a client would name it (`/cmd` → `cmd`). */
function describeValidation(error: ValidationError): string {
  const first = error.valueError
  if (!first) return 'The request does not match the schema.'
  const field = first.path.replace(/^\//, '').replaceAll('/', '.')
  return field ? `${field}: ${first.message}` : first.message
}

/**
 * Host header values already judged: a client sends the same one on every request, and judging it
 * (lower-casing, port split, IP literal parse) was a measurable part of a cheap GET. Bounded: a
 * client making up Host values only empties it.
 */
function hostJudge(allowedHosts: readonly string[]): (host: string | null) => boolean {
  const judged = new Map<string, boolean>()
  return (host) => {
    if (host === null) return false
    let allowed = judged.get(host)
    if (allowed === undefined) {
      allowed = isAllowedHost(host, allowedHosts)
      if (judged.size >= 256) judged.clear()
      judged.set(host, allowed)
    }
    return allowed
  }
}

/** Path and query of an absolute URL, credentials redacted; cheaper than `new URL` on every request. */
function loggedPath(url: string): string {
  const slash = url.indexOf('/', url.indexOf('//') + 2)
  const path = slash === -1 ? '/' : url.slice(slash)
  const hash = path.indexOf('#')
  const bare = hash === -1 ? path : path.slice(0, hash)
  return bare.includes('?') ? redactUrl(bare) : bare
}

/**
 * @elysiajs/cors as this server configures it (also the bench's reference app,
 * scripts/bench-cors-app.ts). It is the stack's choice, and the largest fixed cost of a request:
 * measured as the server's best CPU per request under wrk, a one-route Elysia app took 14.1 µs,
 * the same with this plugin 17.1 (bare Bun.serve 12.8): its request hook, and four headers on
 * every answer (vary, allow-methods, allow-headers, expose-headers). A hand-written replacement
 * was tried and dropped to keep the plugin users asked for. Given the origins as one Set lookup
 * and the methods as a string, it at least walks no list and joins nothing per request.
 */
export function corsFor(allowedOrigins: readonly string[]) {
  const origins = new Set(allowedOrigins)
  const plugin = cors({
    // The exact origins of CORS_ORIGINS, as the list form matched them, in one lookup.
    origin: (request: Request) => origins.has(request.headers.get('origin') ?? ''),
    methods: 'GET, POST, DELETE, OPTIONS',
    allowedHeaders: ['Authorization', 'Content-Type'],
    // A fixed list: the plugin's default (true) echoes the request's header names back.
    exposeHeaders: ['WWW-Authenticate'],
    credentials: false,
    maxAge: 600,
  })
  // The plugin's request hook is synchronous, but Elysia judges hooks by their source, and its
  // `return handleOption(...)` reads as maybe-async: every route was compiled as an async
  // function awaiting it. Said once here (HookContainer.isAsync is Elysia's own field for it).
  for (const hook of plugin.event.request ?? []) hook.isAsync = false
  return plugin
}

/**
 * Everything that applies to every request: Host and Origin checks, JSON bodies whatever the
 * Content-Type, the body bound, the error model and the request log. Used once, globally.
 */
export function createHttpPlugin({ config, logger }: HttpDeps) {
  const allowedHosts = [...config.allowedHosts, ...(config.publicUrl ? [config.publicUrl.hostname.toLowerCase()] : [])]
  const hostAllowed = hostJudge(allowedHosts)

  /** The 403 a request gets for its Host, or a WebSocket upgrade for its Origin; else undefined. */
  const refuse = (request: Request, upgrade: boolean): Response | undefined => {
    // Bun fills Host from the connection; a Request built in-process (app.handle) has only its URL.
    const host = request.headers.get('host') ?? new URL(request.url).host
    if (!hostAllowed(host)) {
      return errorResponse(403, 'host_not_allowed', 'This Host header is not accepted; add the name to ALLOWED_HOSTS or use PUBLIC_URL.')
    }
    if (!upgrade) return undefined
    const origin = request.headers.get('origin')
    if (!isAllowedOrigin(origin, config.corsOrigins) && !isPageOrigin(origin, host, config.publicUrl)) {
      return errorResponse(403, 'origin_not_allowed', 'This Origin may not open a WebSocket; add it to CORS_ORIGINS.')
    }
    return undefined
  }

  /** Logs the request with the status its client saw, and passes the answer on unchanged. */
  const logged = <T>(request: Request, answer: T, started: number, upgrade: boolean): T => {
    // Bun answers an accepted WebSocket upgrade with 101 itself; the 200 Elysia hands back then is
    // never sent (a refused upgrade gets its own status: 400, 401, 403).
    const status = answer instanceof Response && !(upgrade && answer.status === 200) ? answer.status : 101
    logger.info('request', { method: request.method, path: loggedPath(request.url), status, ms: Math.round((performance.now() - started) * 10) / 10 })
    return answer
  }
  return new Elysia({ name: 'http' })
    .use(corsFor(config.corsOrigins))
    // Host and Origin checks and the request log wrap the whole handler, once per request: as an
    // onRequest plus an onAfterResponse hook they cost more than the log line itself (Elysia
    // compiles an awaited call into every route for the first and queues a setImmediate per
    // request for the second), and a wrapper sees the Response every path ends in (a route, an
    // early 401, an error, an unknown route), so the logged status is the one the client saw.
    .wrap((handler) => (request: Request) => {
      const started = performance.now()
      const upgrade = request.headers.get('upgrade')?.toLowerCase() === 'websocket'
      const answer: unknown = refuse(request, upgrade) ?? handler(request)
      if (answer instanceof Promise) return answer.then((response: unknown) => logged(request, response, started, upgrade))
      return logged(request, answer, started, upgrade)
    })
    .onParse({ as: 'global' }, async ({ request }) => {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return
      return (await readJsonBody(request, config.bodyLimitBytes)) ?? {}
    })
    .onError({ as: 'global' }, ({ error, code, set }) => {
      if (error instanceof AppError) return appErrorResponse(error)
      // Elysia wraps whatever onParse throws in a ParseError; ours (413, 400) are the cause.
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof AppError) return appErrorResponse(cause)
      switch (code) {
        case 'VALIDATION':
          return errorResponse(422, 'invalid_request', describeValidation(error as ValidationError))
        case 'NOT_FOUND':
          return errorResponse(404, 'not_found', 'No such route; see /swagger for the API.')
        case 'PARSE':
          return errorResponse(400, 'invalid_json', 'The request body is not valid JSON.')
        case 'INVALID_COOKIE_SIGNATURE':
        case 'INVALID_FILE_TYPE':
          return errorResponse(400, 'bad_request', String((error as Error).message ?? error))
      }
      // Elysia 1.4.30 fails while wording a validation error about an object whose `toString` is
      // not a function (`{"repo":{"toString":null}}`, found by the route fuzzer): still a bad body.
      if (error instanceof TypeError && error.stack?.includes('ValidationError')) {
        return errorResponse(422, 'invalid_request', 'The request body does not match the schema.')
      }
      logger.error('unhandled error', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
      set.status = 500
      return errorResponse(500, 'internal', 'The server failed on this request; see its log.')
    })
}
