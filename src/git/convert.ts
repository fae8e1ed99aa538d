/**
 * git's end-of-line conversion (convert.c, checked against git 2.39): "clean" turns a working
 * file into the bytes git stores (CRLF -> LF for text), "smudge" turns a blob into the working
 * file (LF -> CRLF where eol=crlf or core.autocrlf=true says so). Driven by the `text`, `eol`,
 * legacy `crlf` attributes and core.autocrlf / core.eol. Filter drivers (`filter=`, e.g. LFS),
 * `ident` and `working-tree-encoding` are not applied: running them would mean running programs
 * named by the repository, which this layer never does.
 *
 * A file without a CR is never changed by clean, so the common case costs one byte scan and no
 * attribute lookup at all.
 */
import type { GitIndex } from './dirc'
import { Attributes, indexEntryOf, type AttrValue } from './attributes'
import { coreConfig, type CoreConfig } from './coreconfig'
import { readRawObject } from './pack'
import type { Repo } from './odb'

/** convert.c's crlf_action after config is applied: what clean and smudge do for a path. */
export type CrlfAction = 'binary' | 'text-input' | 'text-crlf' | 'auto-input' | 'auto-crlf'

type TextStat = { nul: number; lonecr: number; lonelf: number; crlf: number; printable: number; nonprintable: number }

/** gather_stats */
function gatherStats(buf: Uint8Array): TextStat {
  const s: TextStat = { nul: 0, lonecr: 0, lonelf: 0, crlf: 0, printable: 0, nonprintable: 0 }
  const n = buf.length
  for (let i = 0; i < n; i++) {
    const c = buf[i]!
    if (c === 13) {
      if (i + 1 < n && buf[i + 1] === 10) {
        s.crlf++
        i++
      } else s.lonecr++
    } else if (c === 10) s.lonelf++
    else if (c === 127) s.nonprintable++
    else if (c < 32) {
      // BS, HT, ESC and FF count as printable
      if (c === 8 || c === 9 || c === 27 || c === 12) s.printable++
      else {
        if (c === 0) s.nul++
        s.nonprintable++
      }
    } else s.printable++
  }
  // a trailing ^Z (DOS EOF) is not held against the file
  if (n >= 1 && buf[n - 1] === 26) s.nonprintable--
  return s
}

/** convert_is_binary: git's "is this text?" guess for text=auto. */
const looksBinary = (s: TextStat) => s.lonecr > 0 || s.nul > 0 || s.printable >> 7 < s.nonprintable

const isAuto = (a: CrlfAction) => a === 'auto-input' || a === 'auto-crlf'

/** convert_attrs: the attributes and core settings folded into one action. */
export function crlfAction(attrs: Map<string, AttrValue>, core: CoreConfig): CrlfAction {
  const fromAttr = (v: AttrValue | undefined): 'text' | 'binary' | 'input' | 'auto' | undefined => {
    if (v === true) return 'text'
    if (v === false) return 'binary'
    if (v === 'input') return 'input'
    if (v === 'auto') return 'auto'
    return undefined
  }
  const textIsCrlf = core.autocrlf === true || (core.autocrlf !== 'input' && core.eol === 'crlf')
  let a = fromAttr(attrs.get('text')) ?? fromAttr(attrs.get('crlf'))
  if (a === 'binary') return 'binary'
  const eol = attrs.get('eol')
  if (a === 'auto') {
    if (eol === 'lf') return 'auto-input'
    if (eol === 'crlf') return 'auto-crlf'
    return textIsCrlf ? 'auto-crlf' : 'auto-input'
  }
  if (eol === 'lf') return 'text-input'
  if (eol === 'crlf') return 'text-crlf'
  if (a === 'input') return 'text-input'
  if (a === 'text') return textIsCrlf ? 'text-crlf' : 'text-input'
  if (core.autocrlf === true) return 'auto-crlf'
  if (core.autocrlf === 'input') return 'auto-input'
  return 'binary'
}

/** has_crlf_in_index: the indexed blob is text (by the same guess) and has CRLFs. */
function indexHasCrlf(repo: Repo, index: GitIndex, path: string): boolean {
  const e = indexEntryOf(index, path)
  if (!e) return false
  const obj = readRawObject(repo.objectGitdirs, e.oid)
  if (!obj || obj.content.indexOf(13) < 0) return false
  const s = gatherStats(obj.content)
  return !looksBinary(s) && s.crlf > 0
}

/** crlf_to_git: returns `bytes` itself when nothing changes. */
export function cleanBytes(bytes: Uint8Array, action: CrlfAction, crlfInIndex: () => boolean): Uint8Array {
  if (action === 'binary' || bytes.length === 0 || bytes.indexOf(13) < 0) return bytes
  const s = gatherStats(bytes)
  if (s.crlf === 0) return bytes
  if (isAuto(action)) {
    if (looksBinary(s)) return bytes
    // git's "safer autocrlf": a file committed with CRLFs keeps them until renormalised
    if (crlfInIndex()) return bytes
  }
  const out = new Uint8Array(bytes.length - s.crlf)
  let o = 0
  const n = bytes.length
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!
    if (c === 13 && i + 1 < n && bytes[i + 1] === 10) continue
    out[o++] = c
  }
  return out
}

/** crlf_to_worktree: returns `bytes` itself when nothing changes. */
export function smudgeBytes(bytes: Uint8Array, action: CrlfAction): Uint8Array {
  if ((action !== 'text-crlf' && action !== 'auto-crlf') || bytes.length === 0) return bytes
  const s = gatherStats(bytes)
  if (s.lonelf === 0) return bytes
  if (action === 'auto-crlf' && (s.lonecr > 0 || s.crlf > 0 || looksBinary(s))) return bytes
  const out = new Uint8Array(bytes.length + s.lonelf)
  let o = 0
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (c === 10 && (i === 0 || bytes[i - 1] !== 13)) out[o++] = 13
    out[o++] = c
  }
  return out
}

const CONVERSION_ATTRS = ['text', 'eol', 'crlf'] as const

/** Clean and smudge for the paths of one repository state (its working tree, index and config). */
export class Converter {
  private attrs: Attributes | null = null

  constructor(
    private readonly repo: Repo,
    private readonly index: GitIndex,
    readonly core: CoreConfig,
  ) {}

  private attributes(): Attributes {
    return (this.attrs ??= new Attributes(this.repo, this.index))
  }

  action(path: string): CrlfAction {
    return crlfAction(this.attributes().lookup(path, CONVERSION_ATTRS), this.core)
  }

  /** The bytes git would store for regular file `path` holding `bytes`. */
  clean(path: string, bytes: Uint8Array): Uint8Array {
    if (bytes.indexOf(13) < 0) return bytes
    return cleanBytes(bytes, this.action(path), () => indexHasCrlf(this.repo, this.index, path))
  }

  /** The bytes git would write into the working tree for a blob at regular file `path`. */
  smudge(path: string, bytes: Uint8Array): Uint8Array {
    if (bytes.indexOf(10) < 0) return bytes
    return smudgeBytes(bytes, this.action(path))
  }

  /** The `diff` attribute: false (`-diff`, `binary`) shows a binary diff, true forces text, undefined lets the content decide. */
  diffAsText(path: string): boolean | undefined {
    const v = this.attributes().lookup(path, ['diff']).get('diff')
    return v === true ? true : v === false ? false : undefined
  }
}

export async function converterFor(repo: Repo, index: GitIndex): Promise<Converter> {
  return new Converter(repo, index, await coreConfig(repo))
}
