/**
 * Hostile values for the route fuzzer: strings, numbers and shapes a careless or malicious client
 * sends. Everything is built from a seeded Prng, so runs are reproducible.
 */
import type { Prng } from './prng'

const MB = 1_000_000

/** Paths that try to leave a root; `sentinel` is an absolute directory outside repo and STATE_DIR. */
export function pathTricks(sentinel: string): string[] {
  return [
    '..',
    '../',
    '../../',
    '../../sentinel/pwned',
    '../../../../../../etc/passwd',
    '%2e%2e/',
    '%2e%2e%2f%2e%2e%2fsentinel',
    '..%2f..%2f',
    '..%252f..%252f',
    '.%2e/',
    `${sentinel}/pwned`,
    sentinel,
    '/etc/passwd',
    '/',
    '//',
    '.git/hooks/x',
    '.git/hooks/pre-commit',
    '.GIT/config',
    '.git',
    'sub/.git/config',
    'a/../../b',
    './x',
    '.',
    'link-out/pwned',
    'link-out',
    'x\0y',
    '\0',
    '..\\..\\x',
    '\\\\server\\share',
    'file:///etc/passwd',
    '~/.ssh/id_rsa',
    '$HOME/x',
    '\u2024\u2024/x',
    '\uff0e\uff0e/x',
    'a/'.repeat(2100),
    'CON',
    '-rf',
    '--output=/tmp/x',
    ' ',
  ]
}

/** Commands a client might try to smuggle a shell through. */
export const INJECTION_COMMANDS = [
  'npm test; id',
  'npm test --script-shell=/tmp/x',
  'npm test --prefix /x',
  './npm test',
  'NPM test',
  'npm test\nid',
  'rm -rf /',
  '$(id)',
  'echo `id`',
  'echo hello | id',
  'echo hello && id',
  'echo hello > /tmp/pwned',
  'echo hello ; touch PWNED',
  'echo hello $(touch PWNED)',
  'echo hello\r\nid',
  'echo "unterminated',
  'echo \\',
  'echo \0',
  '/bin/echo hello',
  'echo',
  'echo hello',
  'echo hello *',
  'sh -c id',
  'env JWT_SECRET=x echo hello',
]

function repeatToBytes(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)))
}

/** About 1 MB of text (under the 1 MiB body limit even in JSON, so the schema sees it), or over the limit. */
export function hugeString(rng: Prng): string {
  return rng.pick([
    () => repeatToBytes('A', MB),
    () => repeatToBytes('\u20ac', MB),
    () => repeatToBytes('../', 300_000),
    () => repeatToBytes('\0', 200_000),
    () => repeatToBytes('B', 2 * MB),
  ])()
}

/** A string from the hostile catalogue; huge ones (about 1 MB or more) only when `allowHuge`. */
export function hostileString(rng: Prng, allowHuge: boolean): string {
  if (allowHuge && rng.chance(0.5)) return hugeString(rng)
  return rng.pick([
    '',
    ' ',
    '\t\n\r',
    '\0',
    'a\0b',
    '\u0001\u0002\u001b[31mred\u001b[0m\u007f',
    '\u202egnp.exe',
    '\u200b\u200c\u200d\ufeff',
    '\ud800',
    '\udfff\ud800',
    '\uffff\ufffe',
    '💥🔥👾'.repeat(10),
    'Ω≈ç√∫˜µ≤≥÷',
    'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ',
    '__proto__',
    'constructor',
    'toString',
    '{"nested":"json"}',
    '[1,2,3]',
    'null',
    'true',
    'NaN',
    '1e309',
    '-1',
    '%s%s%n%x',
    '${jndi:ldap://x/a}',
    "'; DROP TABLE tasks; --",
    '<script>alert(1)</script>',
    'HEAD',
    'main',
    'refs/heads/main',
    'a'.repeat(255),
    'a'.repeat(257),
    'b'.repeat(4097),
    'c'.repeat(40_000),
    rng.pick(INJECTION_COMMANDS),
  ])
}

export function hostileNumber(rng: Prng): number {
  return rng.pick([0, -1, 1, -0, 0.5, -0.5, 1e-300, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 123456789012, 7, 65536])
}

/** Any JSON value of the wrong shape: arrays for objects, objects for strings, deep nesting. */
export function hostileValue(rng: Prng, allowHuge: boolean, depth = 0): unknown {
  const kind = rng.int(0, depth > 2 ? 4 : 9)
  switch (kind) {
    case 0:
    case 1:
      return hostileString(rng, allowHuge)
    case 2:
      return hostileNumber(rng)
    case 3:
      return rng.pick([true, false, null])
    case 4:
      return rng.pick([[], {}, [null], [{}], { '': '' }])
    case 5:
      return Array.from({ length: rng.int(0, 5) }, () => hostileValue(rng, false, depth + 1))
    case 6:
      return Object.fromEntries(Array.from({ length: rng.int(0, 5) }, () => [hostileString(rng, false).slice(0, 50), hostileValue(rng, false, depth + 1)]))
    case 7:
      // Deeper nesting stalls the server (Elysia pretty-prints the value into the 422 message, in
      // time and memory quadratic in the depth); see test/fuzz/pending/ and the report.
      return deepNesting(rng.pick([16, 64, 300]))
    case 8:
      return JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')
    default:
      return Object.fromEntries(Array.from({ length: rng.pick([100, 10_000]) }, (_, i) => [`k${i}`, i]))
  }
}

function deepNesting(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

/** Raw body texts that are not (valid) JSON, or are JSON of a surprising kind. */
export function hostileRawBody(rng: Prng): string | Uint8Array {
  return rng.pick<string | Uint8Array>([
    '{',
    '{"cmd":',
    "{'cmd': 'echo'}",
    '{"a":1,}',
    'undefined',
    'cmd=echo+hello&cwd=..',
    '--boundary\r\nContent-Disposition: form-data; name="cmd"\r\n\r\necho\r\n--boundary--',
    '"just a string"',
    '12345',
    'null',
    'true',
    '[]',
    '\ufeff{"instruction":"bom"}',
    '{"instruction":"x"}\0',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '[' .repeat(100_000),
    new Uint8Array([0x7b, 0xff, 0xfe, 0xfd, 0x7d]),
    new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    new Uint8Array(2048).fill(0),
  ])
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=boundary',
  'multipart/form-data',
  'text/plain',
  'application/octet-stream',
  'application/xml',
  '',
  'application/json; charset=utf-16',
  '*/*',
]
