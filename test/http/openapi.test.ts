import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { SCALAR_SCRIPT_PATH } from '../../src/http/openapi'
import { EVENT_DEFINITIONS, FRAME_SCHEMAS } from '../../src/ws/frames'
import { makeTestApp, type TestApp } from '../fixtures/app'

type Operation = { security?: Record<string, unknown>[]; requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown>; parameters?: { name: string }[] }
type Spec = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } }

let t: TestApp
let spec: Spec

beforeAll(async () => {
  t = await makeTestApp()
  spec = (await (await t.app.handle(new Request('http://localhost/swagger/json'))).json()) as Spec
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

const operations = () => Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })))

describe('/swagger/json', () => {
  it('passes an OpenAPI 3 validator', async () => {
    const result = await new Validator().validate(structuredClone(spec) as Parameters<Validator["validate"]>[0])
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('names the bodies of the routes, every event and every frame in components.schemas', () => {
    const names = Object.keys(spec.components.schemas)
    const bodies = ['Session', 'SessionRequest', 'Connection', 'Task', 'TaskRequest', 'ApplyRequest', 'ApplyResult', 'FilePatch', 'Hunk', 'Patches', 'RepoStatus', 'Agent', 'Command', 'CommandRequest', 'Error']
    for (const name of [...bodies, ...Object.keys(FRAME_SCHEMAS)]) expect(names).toContain(name)
    for (const definition of EVENT_DEFINITIONS) expect(names).toContain(definition.name)
  })

  it('names every schema in one style: a PascalCase noun, no View, Info or Schema suffix', () => {
    const offStyle = Object.keys(spec.components.schemas).filter((name) => !/^[A-Z][a-zA-Z0-9]*$/.test(name) || /(View|Info|Schema|Body)$/.test(name))
    expect(offStyle).toEqual([])
  })

  it('advertises request bodies as JSON only', () => {
    const bodies = operations().filter(({ operation }) => operation.requestBody)
    expect(bodies.length).toBeGreaterThan(3)
    for (const { operation } of bodies) expect(Object.keys(operation.requestBody!.content)).toEqual(['application/json'])
  })

  it('has one path per route, none with a trailing slash', () => {
    for (const path of Object.keys(spec.paths)) expect(path === '/' || !path.endsWith('/')).toBe(true)
    expect(spec.paths['/api/tasks']?.post).toBeDefined()
  })

  it('lists 401 on every route that needs a token', () => {
    const guarded = operations().filter(({ operation }) => operation.security?.length)
    expect(guarded.length).toBeGreaterThan(10)
    for (const { path, method, operation } of guarded) expect({ path, method, has401: '401' in operation.responses }).toEqual({ path, method, has401: true })
  })

  it('describes both WebSockets with their query parameters', () => {
    const pty = spec.paths['/ws/pty']!.get!
    const events = spec.paths['/ws/events']!.get!
    expect(pty.parameters!.map((p) => p.name)).toEqual(['sessionId', 'token', 'cols', 'rows', 'taskId'])
    expect(events.parameters!.map((p) => p.name)).toEqual(['sessionId', 'token', 'resumeSeq', 'epoch'])
    expect(JSON.stringify(events.responses['101'])).toContain('#/components/schemas/ResumeFrame')
  })
})

describe('/swagger', () => {
  it('loads the API reference script from this server, not a CDN, and serves it', async () => {
    const html = await (await t.app.handle(new Request('http://localhost/swagger'))).text()
    expect(html).toContain(`<script src="${SCALAR_SCRIPT_PATH}"`)
    expect(html).not.toMatch(/<script[^>]+src="https?:/)
    const script = await t.app.handle(new Request(`http://localhost${SCALAR_SCRIPT_PATH}`))
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toContain('javascript')
    expect((await script.text()).length).toBeGreaterThan(1_000_000)
  })
})
