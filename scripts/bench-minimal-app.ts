/** The start-up reference: a minimal Elysia app, compiled the way scripts/build.ts compiles the server. */
import { Elysia } from 'elysia'

const app = new Elysia().get('/healthz', () => ({ ok: true })).listen({ hostname: '127.0.0.1', port: 0 })
console.log(`listening on http://127.0.0.1:${app.server!.port}`)
