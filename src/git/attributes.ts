/**
 * A gitattributes(5) reader, as git's attr.c resolves them: `.gitattributes` in the root and in
 * every directory on a path (deeper files win), `.git/info/attributes` above all of them, later
 * lines over earlier ones, and macros (`binary` = `-diff -merge -text` built in, `[attr]name ...`
 * in the root file or info/attributes). The global core.attributesFile and the system file are
 * not read: the server should not depend on the account's personal git setup (ignore.ts likewise).
 *
 * Only paths whose content must be converted are ever looked up (a file with a CR in it, or a
 * changed file's diff driver), so a warm diff of an unchanged tree reads no attribute file.
 * Parsed files are cached process-wide by path and stat data, parsed blobs by oid.
 */
import { lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GitIndex, IndexEntry } from './dirc'
import { comparePaths } from './dirc'
import { globToRegex } from './ignore'
import { readRawObject } from './pack'
import type { Repo } from './odb'

/** true = set, false = `-attr`, null = `!attr` (unspecified on purpose), a string = `attr=value`. */
export type AttrValue = true | false | null | string
type State = [name: string, value: AttrValue]
type Line = { re: RegExp; basename: boolean; states: State[] }
type AttrFile = { lines: Line[]; macros: Map<string, State[]> }
/** One level of the stack: a file's rules and the directory ("" for the root) they apply below. */
type Level = { base: string; file: AttrFile }

const BUILTIN: AttrFile = { lines: [], macros: new Map([['binary', [['diff', false], ['merge', false], ['text', false]]]]) }
const EMPTY: AttrFile = { lines: [], macros: new Map() }
/** attr.c's ATTR_MAX_LINE_LENGTH: longer lines are ignored. */
const MAX_LINE = 2048
const BLANK = /[ \t\r\n]/
const validName = (name: string) => /^[-._0-9a-zA-Z]+$/.test(name) && !name.startsWith('-')

/** C-style quoted pattern ("a b" or "\303\251"), as unquote_c_style; null when malformed. */
function unquote(s: string): { text: string; rest: string } | null {
  const bytes: number[] = []
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 }
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!
    if (c === '"') return { text: Buffer.from(bytes).toString('utf8'), rest: s.slice(i + 1) }
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'))
      continue
    }
    const n = s[++i]
    if (n === undefined) return null
    if (n in simple) bytes.push(simple[n]!)
    else if (/^[0-3][0-7][0-7]$/.test(s.slice(i, i + 3))) {
      bytes.push(parseInt(s.slice(i, i + 3), 8))
      i += 2
    } else return null
  }
  return null
}

function parseStates(rest: string): State[] | null {
  const states: State[] = []
  for (const tok of rest.split(/[ \t\r\n]+/)) {
    if (tok === '') continue
    const eq = tok.indexOf('=')
    let name = eq < 0 ? tok : tok.slice(0, eq)
    let value: AttrValue = eq < 0 ? true : tok.slice(eq + 1)
    if (name.startsWith('-') || name.startsWith('!')) {
      value = name[0] === '-' ? false : null
      name = name.slice(1)
    }
    // one invalid attribute name makes git drop the whole line
    if (!validName(name)) return null
    states.push([name, value])
  }
  return states
}

/** Parses one attributes file; `macroOk` for the root file and info/attributes only, as git allows. */
export function parseAttributes(text: string, macroOk: boolean): AttrFile {
  const lines: Line[] = []
  const macros = new Map<string, State[]>()
  if (text.startsWith('\uFEFF')) text = text.slice(1)
  for (const raw of text.split('\n')) {
    if (raw.length > MAX_LINE) continue
    const line = raw.replace(/^[ \t\r\n]+/, '')
    if (line === '' || line.startsWith('#')) continue
    let pattern: string
    let rest: string
    if (line.startsWith('"')) {
      const q = unquote(line)
      if (!q) continue
      pattern = q.text
      rest = q.rest
    } else {
      const end = line.search(BLANK)
      pattern = end < 0 ? line : line.slice(0, end)
      rest = end < 0 ? '' : line.slice(end)
    }
    const states = parseStates(rest)
    if (!states) continue
    if (pattern.startsWith('[attr]')) {
      const name = pattern.slice(6)
      if (macroOk && validName(name)) macros.set(name, states)
      continue
    }
    // negative patterns are not allowed in attributes (git warns and ignores the line); a
    // trailing slash matches only directories, never the files asked about here
    if (pattern.startsWith('!') || pattern.endsWith('/') || pattern === '') continue
    const basename = !pattern.includes('/')
    if (pattern.startsWith('/')) pattern = pattern.slice(1)
    lines.push({ re: new RegExp(`^${globToRegex(pattern)}$`, 's'), basename, states })
  }
  return { lines, macros }
}

const byStat = new Map<string, { key: string; file: AttrFile }>()
const byBlob = new Map<string, AttrFile>()
const MAX_CACHED = 1024

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key)
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!)
  map.set(key, value)
  return value
}

/** A regular file's parsed attributes, re-read only when its stat data changes; null when absent (or a symlink, which git will not follow). */
function loadFile(abs: string, macroOk: boolean): AttrFile | null {
  let st
  try {
    st = lstatSync(abs, { bigint: true, throwIfNoEntry: false })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR' || code === 'EACCES') return null
    throw err
  }
  if (!st || !st.isFile()) return null
  const key = `${macroOk}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  const hit = byStat.get(abs)
  if (hit && hit.key === key) return hit.file
  return remember(byStat, abs, { key, file: parseAttributes(readFileSync(abs, 'utf8'), macroOk) }).file
}

/** The stage-0 entry of `path` (or stage 2, "ours", during a merge), by binary search of the sorted index. */
export function indexEntryOf(index: GitIndex, path: string): IndexEntry | null {
  const entries = index.entries
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (comparePaths(entries[mid]!.path, path) < 0) lo = mid + 1
    else hi = mid
  }
  let found: IndexEntry | null = null
  for (let i = lo; i < entries.length && entries[i]!.path === path; i++) {
    const e = entries[i]!
    if (e.stage === 0) return e
    if (e.stage === 2) found = e
  }
  return found
}

/** Resolves attributes for paths of one repository state (a working tree and its index). */
export class Attributes {
  private readonly levels = new Map<string, Level[]>()
  private info: AttrFile | undefined

  constructor(
    private readonly repo: Repo,
    private readonly index: GitIndex,
  ) {}

  /** The values of `names` for repo-relative file `path`; an attribute no rule mentions is absent. */
  lookup(path: string, names: readonly string[]): Map<string, AttrValue> {
    const slash = path.lastIndexOf('/')
    const stack = this.stackFor(slash < 0 ? '' : path.slice(0, slash))
    const macros = this.macros(stack)
    const out = new Map<string, AttrValue>()
    const wanted = new Set(names)
    const name = path.slice(slash + 1)
    const assign = (states: State[]) => {
      for (let k = states.length - 1; k >= 0; k--) {
        const [attr, value] = states[k]!
        if (out.has(attr)) continue
        out.set(attr, value)
        // a macro expands where it is set, with that line's precedence
        const macro = value === true ? macros.get(attr) : undefined
        if (macro) assign(macro)
      }
    }
    for (let s = stack.length - 1; s >= 0; s--) {
      const { base, file } = stack[s]!
      const rel = base === '' ? path : path.slice(base.length + 1)
      for (let l = file.lines.length - 1; l >= 0; l--) {
        const line = file.lines[l]!
        if (line.re.test(line.basename ? name : rel)) assign(line.states)
      }
    }
    for (const k of [...out.keys()]) if (!wanted.has(k)) out.delete(k)
    return out
  }

  /** Weakest first: the built-in macros, the root file, deeper files, then info/attributes. */
  private stackFor(dir: string): Level[] {
    const hit = this.levels.get(dir)
    if (hit) return hit
    let stack: Level[]
    if (dir === '') {
      this.info ??= loadFile(join(this.repo.gitdir, 'info', 'attributes'), true) ?? EMPTY
      stack = [{ base: '', file: BUILTIN }, { base: '', file: this.inTree('', true) }, { base: '', file: this.info }]
    } else {
      const slash = dir.lastIndexOf('/')
      const parent = this.stackFor(slash < 0 ? '' : dir.slice(0, slash))
      stack = [...parent.slice(0, -1), { base: dir, file: this.inTree(dir, false) }, parent[parent.length - 1]!]
    }
    this.levels.set(dir, stack)
    return stack
  }

  /** `<dir>/.gitattributes` from the working tree, else from the index (git's order when adding). */
  private inTree(dir: string, macroOk: boolean): AttrFile {
    const rel = dir === '' ? '.gitattributes' : `${dir}/.gitattributes`
    const fromDisk = loadFile(join(this.repo.dir, rel), macroOk)
    if (fromDisk) return fromDisk
    const e = indexEntryOf(this.index, rel)
    if (!e || (e.mode & 0o170000) !== 0o100000) return EMPTY
    const key = `${macroOk}:${e.oid}`
    const hit = byBlob.get(key)
    if (hit) return hit
    const obj = readRawObject(this.repo.objectGitdirs, e.oid)
    if (!obj) return EMPTY
    return remember(byBlob, key, parseAttributes(Buffer.from(obj.content).toString('utf8'), macroOk))
  }

  private macros(stack: Level[]): Map<string, State[]> {
    // the strongest definition of a macro wins
    const out = new Map<string, State[]>()
    for (let s = stack.length - 1; s >= 0; s--) for (const [name, states] of stack[s]!.file.macros) if (!out.has(name)) out.set(name, states)
    return out
  }
}
