/**
 * The layering of STYLE.md, checked on the source: no import cycle between files, and no domain
 * layer reaching into http/ (a layer throws a domain error; http/ alone decides what a client sees).
 * Reads import/export-from lines and `import('./x')` calls with a regex: a dynamic import is a
 * dependency too, and would otherwise hide a cycle.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SRC = resolve(import.meta.dir, '../../src')
const DOMAIN_LAYERS = ['policy', 'git', 'session', 'tasks', 'cmdexec', 'pty', 'procs', 'events', 'store', 'agents']

const IMPORT_LINE = /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm

function sourceFiles(): string[] {
  return [...new Bun.Glob('**/*.ts').scanSync({ cwd: SRC })].filter((file) => !file.endsWith('.d.ts')).sort()
}

/** A relative specifier as the file it names (x.ts or x/index.ts), relative to src/; null for a package. */
function resolveSpecifier(fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  const base = resolve(SRC, dirname(fromFile), specifier)
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile() && candidate.endsWith('.ts')) return relative(SRC, candidate)
  }
  return null // an asset (`with { type: 'file' }`) or a path outside src/
}

/** Type-only imports count too: a cycle through types is still two files that must change together. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles()) {
    const text = readFileSync(join(SRC, file), 'utf8')
    const targets = new Set<string>()
    for (const match of text.matchAll(IMPORT_LINE)) {
      const target = resolveSpecifier(file, (match[1] ?? match[2] ?? match[3])!)
      if (target !== null) targets.add(target)
    }
    graph.set(file, [...targets].sort())
  }
  return graph
}

/** Every cycle found by a depth-first walk, each as the files along it (first file repeated at the end). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const visit = (file: string) => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file)
  return cycles
}

describe('imports in src/', () => {
  const graph = importGraph()

  it('reads the import graph (a check on the reader itself)', () => {
    expect(graph.size).toBeGreaterThan(50)
    expect(graph.get('app.ts')).toContain('http/openapi.ts')
    expect(graph.get('routes/tasks.ts')).toContain('auth/index.ts')
    expect(graph.get('git/commit.ts')).toContain('git/diff.ts') // through import('./diff')
  })

  it('finds a cycle when there is one (a check on the walk itself)', () => {
    const looped = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]])
    expect(findCycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']])
  })

  it('has no cycle between files', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([])
  })

  it('has no domain layer importing http/', () => {
    const offending = [...graph].flatMap(([file, targets]) =>
      DOMAIN_LAYERS.includes(file.split('/')[0]!) ? targets.filter((target) => target.startsWith('http/')).map((target) => `${file} -> ${target}`) : [],
    )
    expect(offending).toEqual([])
  })
})

/**
 * Node built-ins that cost start-up when imported statically. The binary is one bundle, and Bun
 * hoists a static import of a built-in to the bundle's top, so it is loaded on every start, even
 * by a module only the mock agent or a dynamic import uses. Measured in a compiled binary (an
 * import each, 3 runs): node:crypto 11-17 ms, node:net 12, node:zlib 11-13, node:tty 8-10,
 * node:stream 6-8, node:util 2.5 (after the others start-up loads anyway), node:url 1-2 (node:path
 * 0.3, node:fs/promises 2). Load them where they are used (`require` inside a function, `import
 * type` for their types), or use Bun's or the web's own (crypto.randomUUID, crypto.getRandomValues,
 * Bun.CryptoHasher, crypto.timingSafeEqual, Bun.fileURLToPath).
 */
const SLOW_BUILTINS = ['crypto', 'net', 'zlib', 'tty', 'stream', 'util', 'url', 'http', 'https', 'child_process', 'worker_threads', 'readline']
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm

describe('start-up imports', () => {
  it('imports no slow Node built-in statically in the server (src/web is the browser page)', () => {
    const offending = sourceFiles()
      .filter((file) => !file.startsWith('web/'))
      .flatMap((file) =>
        [...readFileSync(join(SRC, file), 'utf8').matchAll(STATIC_IMPORT)]
          .map((match) => (match[1] ?? match[2])!)
          .filter((specifier) => SLOW_BUILTINS.includes(specifier.replace(/^node:/, '').split('/')[0]!))
          .map((specifier) => `${file}: ${specifier}`),
      )
    expect(offending).toEqual([])
  })

  it('tells a static import from a type-only one (a check on the pattern itself)', () => {
    const found = (text: string) => [...text.matchAll(STATIC_IMPORT)].map((match) => match[1] ?? match[2])
    expect(found("import { isIP } from 'node:net'\nimport type * as Net from 'node:net'\nimport 'node:zlib'\n")).toEqual(['node:net', 'node:zlib'])
  })
})
