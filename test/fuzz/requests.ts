/**
 * Builds fuzzed requests from the app's own OpenAPI document: for each operation, path ids from
 * pools of real and tricky ids, query values, bodies sampled from the schema and then broken
 * (wrong types, missing or extra fields, huge strings, raw non-JSON), and a credential that is
 * valid or wrong in one of many ways.
 */
import { hostileRawBody, hostileString, hugeString, hostileValue, hostileNumber, INJECTION_COMMANDS, CONTENT_TYPES, pathTricks } from './payloads'
import type { Prng } from './prng'
import type { Credential } from './tokens'

type Schema = {
  type?: string
  anyOf?: Schema[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
}

export type Operation = {
  method: string
  /** OpenAPI path template, e.g. `/api/tasks/{id}`. */
  path: string
  pathParams: string[]
  queryParams: { name: string; schema: Schema }[]
  body: Schema | null
  /** Security requirement named in the document: a bearer session, the pairing token, or none. */
  auth: 'session' | 'pairing' | 'none'
  /** The statuses the document lists for this operation. */
  statuses: string[]
}

export type FuzzRequest = {
  label: string
  method: string
  url: string
  headers: Record<string, string>
  body: string | Uint8Array | undefined
  credential: Credential | null
  operation: Operation
}

/** Values the generator draws from: real ids of the target plus tricks. */
export type Pools = {
  repo: string
  allowed: string
  sentinel: string
  ids: { task: string[]; taskNoCancel: string[]; cmd: string[]; sessionGet: string[]; sessionDelete: string[] }
  patchFiles: string[]
  sessionCredentials: Credential[]
  pairingCredentials: Credential[]
}

type OpenApi = { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> }; security?: Record<string, unknown>[]; responses?: Record<string, unknown> }>> }

export function operationsOf(document: OpenApi): Operation[] {
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = op.parameters ?? []
      const security = JSON.stringify(op.security ?? [])
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        body: op.requestBody?.content['application/json']?.schema ?? null,
        auth: security.includes('pairingToken') ? 'pairing' : security.includes('bearerAuth') ? 'session' : 'none',
        statuses: Object.keys(op.responses ?? {}),
      })
    }
  }
  return operations
}

function encode(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return encodeURIComponent(value.toWellFormed()) // a lone surrogate cannot be percent-encoded as is
  }
}

function idFor(rng: Prng, pools: Pools, operation: Operation, param: string): string {
  const { ids } = pools
  let real: string[]
  // Cancel and DELETE would end the long-running blockers the fuzzer keeps busy: never aim them at those.
  if (operation.path.startsWith('/api/tasks')) real = operation.path.endsWith('/cancel') || operation.method === 'DELETE' ? ids.taskNoCancel : ids.task
  else if (operation.path.startsWith('/api/cmd')) real = ids.cmd
  else if (operation.path.startsWith('/api/session')) real = operation.method === 'DELETE' ? ids.sessionDelete : ids.sessionGet
  else real = [param]
  const roll = rng.next()
  if (roll < 0.35) return encode(rng.pick(real))
  if (roll < 0.45) return '00000000-0000-4000-8000-000000000000' // well-formed, unknown
  if (roll < 0.75) return encode(rng.pick(pathTricks(pools.sentinel)))
  // Raw tricks: the URL parser normalises `..` segments and percent-encodes the rest.
  if (roll < 0.85) return rng.pick(['..', '../..', '%2e%2e', '%2e%2e%2f..', '%00', '%ff%fe', '%E0%A4%A', '.git', 'x?y=1', 'x#frag'])
  return encode(hostileString(rng, false).slice(0, rng.pick([10, 199, 201, 300])))
}

/** A value for a field the app knows by name: realistic, tricky, or plain wrong. */
function fieldValue(rng: Prng, pools: Pools, name: string): unknown {
  const tricks = pathTricks(pools.sentinel)
  switch (name) {
    case 'cmd':
      return rng.pick([...INJECTION_COMMANDS, 'echo fuzz', 'true', 'echo ok'])
    case 'cwd':
      return rng.pick([...tricks, '', '.', 'src', 'sub', pools.repo, `${pools.repo}/src`, `${pools.repo}/../..`, null])
    case 'timeoutMs':
      return rng.chance(0.7) ? rng.pick([1, 50, 2000, 1e308, 0.5, 0, -5]) : hostileNumber(rng)
    case 'repo':
      return rng.pick([pools.repo, pools.allowed, pools.sentinel, `${pools.repo}/../../sentinel`, `${pools.allowed}/link-out`, 'relative/repo', ...tricks])
    case 'via':
      return rng.pick(['direct', 'relay', 'tunnel', ''])
    case 'instruction':
      return rng.pick(['fix the bug', '-rf /', '--help', 'line one\nline two', hostileString(rng, false)])
    case 'branch':
      return rng.pick(['main', 'feature/x', '../x', '-x', 'a..b', 'x.lock', '@{1}', '@', 'refs/heads/x', '.hidden', 'a b', 'x/', hostileString(rng, false)])
    case 'agent':
      return rng.pick(['mock', 'custom', 'claude', 'codex', 'aider', 'nope', '../../bin/sh', '', 'MOCK'])
    case 'context':
      return rng.chance(0.7) ? { mock: mockSpec(rng, tricks) } : hostileValue(rng, false)
    case 'file':
      return rng.pick([...pools.patchFiles, ...tricks])
    case 'hunks':
      return Array.from({ length: rng.int(0, 3) }, () => rng.pick([0, 1, 2, -1, 1e9, 0.5, 2 ** 53]))
    case 'commitMessage':
    case 'label':
      return hostileString(rng, false)
    case 'base':
      return rng.pick(['HEAD', 'main', 'HEAD~1', '0'.repeat(40), ...tricks, hostileString(rng, false)])
    case 'wait':
      return rng.pick(['true', 'false', '1', '0', 'yes', ''])
    default:
      return undefined
  }
}

function mockSpec(rng: Prng, tricks: string[]): Record<string, unknown> {
  const spec: Record<string, unknown> = {}
  if (rng.chance(0.5)) spec.delayMs = rng.pick([0, 10, -1, 0.5, 1e12, '10'])
  if (rng.chance(0.6)) spec.edits = [{ file: rng.pick([...tricks, 'ok.txt']), content: rng.pick(['x\n', null, 42]) }]
  if (rng.chance(0.2)) spec.fail = rng.pick([true, 'yes'])
  if (rng.chance(0.2)) spec.output = hostileString(rng, false)
  if (rng.chance(0.2)) spec.prompt = hostileString(rng, false)
  return spec
}

function sample(rng: Prng, pools: Pools, schema: Schema, name: string): unknown {
  const known = fieldValue(rng, pools, name)
  if (known !== undefined && rng.chance(0.85)) return known
  if (schema.anyOf) return sample(rng, pools, rng.pick(schema.anyOf), name)
  switch (schema.type) {
    case 'object': {
      const object: Record<string, unknown> = {}
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) || rng.chance(0.6)) object[key] = sample(rng, pools, property, key)
      }
      return object
    }
    case 'array':
      return Array.from({ length: rng.int(0, 3) }, () => sample(rng, pools, schema.items ?? {}, name))
    case 'string':
      return hostileString(rng, false)
    case 'integer':
    case 'number':
      return hostileNumber(rng)
    case 'boolean':
      return rng.chance(0.5)
    default:
      return hostileValue(rng, false)
  }
}

/** Breaks one field of an object body: a wrong type, a huge value, removed, or an unknown extra. */
function mutate(rng: Prng, body: unknown, allowHuge: boolean): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  const keys = Object.keys(copy)
  const key = keys.length > 0 && rng.chance(0.8) ? rng.pick(keys) : rng.pick(['extra', '__proto__', 'constructor', ''])
  if (rng.chance(0.2)) delete copy[key]
  else copy[key] = hostileValue(rng, allowHuge)
  return copy
}

function bodyFor(rng: Prng, pools: Pools, operation: Operation): string | Uint8Array | undefined {
  const allowHuge = rng.chance(0.1)
  const roll = rng.next()
  if (operation.body === null) {
    // Routes without a body still get one now and then.
    if (roll < 0.8 || operation.method === 'GET' || operation.method === 'HEAD') return undefined
    return rng.chance(0.5) ? hostileRawBody(rng) : JSON.stringify(hostileValue(rng, allowHuge))
  }
  if (allowHuge) {
    // About 1 MB (under the body limit, so the schema sees it) or 2 MB and more (413).
    const body = sample(rng, pools, operation.body, '')
    const object = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
    const keys = Object.keys(object)
    object[keys.length > 0 ? rng.pick(keys) : 'huge'] = hugeString(rng)
    return JSON.stringify(object)
  }
  if (roll < 0.3) return JSON.stringify(sample(rng, pools, operation.body, ''))
  if (roll < 0.75) return JSON.stringify(mutate(rng, sample(rng, pools, operation.body, ''), allowHuge))
  if (roll < 0.88) return JSON.stringify(hostileValue(rng, allowHuge))
  if (roll < 0.96) return hostileRawBody(rng)
  return undefined
}

export function buildRequest(rng: Prng, pools: Pools, operation: Operation): FuzzRequest {
  let path = operation.path
  for (const param of operation.pathParams) path = path.replace(`{${param}}`, idFor(rng, pools, operation, param))
  if (path.endsWith('/') && path.length > 1 && rng.chance(0.5)) path = path.slice(0, -1)

  const query = new URLSearchParams()
  for (const { name } of operation.queryParams) {
    if (rng.chance(0.7)) {
      const value = fieldValue(rng, pools, name) ?? hostileString(rng, false)
      query.append(name, typeof value === 'string' ? value.toWellFormed() : JSON.stringify(value))
    }
  }
  if (rng.chance(0.1)) query.append(rng.pick(['extra', 'token', '__proto__', 'wait']), hostileString(rng, false).slice(0, 100).toWellFormed())

  const credentials = operation.auth === 'pairing' ? pools.pairingCredentials : pools.sessionCredentials
  const credential = operation.auth === 'none' && rng.chance(0.8) ? null : rng.chance(0.65) ? credentials[0]! : rng.pick(credentials)
  const headers: Record<string, string> = {}
  if (credential?.header) headers.authorization = credential.header
  if (credential?.query) query.set('token', credential.query)
  const contentType = rng.pick(CONTENT_TYPES)
  if (contentType !== '') headers['content-type'] = contentType

  const method = rng.chance(0.03) ? rng.pick(['PUT', 'PATCH', 'HEAD', 'OPTIONS']) : operation.method
  const search = query.toString()
  const body = method === 'GET' || method === 'HEAD' ? undefined : bodyFor(rng, pools, operation)
  return {
    label: `${method} ${operation.path} [${credential?.name ?? 'no credential'}]`,
    method,
    url: `http://localhost${path}${search ? `?${search}` : ''}`,
    headers,
    body,
    credential,
    operation,
  }
}
