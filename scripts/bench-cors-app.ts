/**
 * The HTTP bench's second reference: the stack's own ceiling for the authenticated GET. One
 * Elysia route answering the same JSON, with `@elysiajs/cors` exactly as the server configures it
 * (corsFor, with CORS_ORIGINS' default), and nothing else (no auth, no log, no schema). Run from
 * source, like the bare Bun.serve.
 * Usage: bun scripts/bench-cors-app.ts '<json body>'
 */
import { Elysia } from 'elysia'
import { writeSync } from 'node:fs'
import { DEFAULT_CORS_ORIGINS } from '../src/config'
import { corsFor } from '../src/http/plugin'

const body = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>
const app = new Elysia()
  .use(corsFor(DEFAULT_CORS_ORIGINS))
  .get('/api/session/:id', () => body)
  .listen({ hostname: '127.0.0.1', port: 0 })
writeSync(1, `listening on http://127.0.0.1:${app.server!.port}\n`)
