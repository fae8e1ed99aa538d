/**
 * The HTTP bench's second reference: the stack's own floor for the authenticated GET. One Elysia
 * route answering the same JSON, with `@elysiajs/cors` configured as src/http/plugin.ts configures
 * it, and nothing else (no auth, no log, no schema). Run from source, like the bare Bun.serve.
 * Usage: bun scripts/bench-cors-app.ts '<json body>'
 */
import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import { writeSync } from 'node:fs'

const body = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>
const origins = new Set(['http://localhost:19006'])
const plugin = cors({
  origin: (request: Request) => origins.has(request.headers.get('origin') ?? ''),
  methods: 'GET, POST, DELETE, OPTIONS',
  allowedHeaders: ['Authorization', 'Content-Type'],
  exposeHeaders: ['WWW-Authenticate'],
  credentials: false,
  maxAge: 600,
})
// As src/http/plugin.ts does: the hook is synchronous, which Elysia cannot tell from its source.
for (const hook of plugin.event.request ?? []) hook.isAsync = false
const app = new Elysia().use(plugin).get('/api/session/:id', () => body).listen({ hostname: '127.0.0.1', port: 0 })
writeSync(1, `listening on http://127.0.0.1:${app.server!.port}\n`)
