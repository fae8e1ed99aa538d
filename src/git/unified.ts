/**
 * Renders one file's change as `git diff` prints it (xdiff/xemit.c + diff.c's builtin_diff):
 * three lines of context, hunks closer than 2*3 lines merged, the default funcname after the
 * second @@, `\ No newline at end of file`, and the header lines git writes for adds, deletes,
 * mode changes, exact renames and binary files.
 */
import type { FilePatch, Hunk } from './types'
import { diffRecords, splitRecords, type Change } from './xdiff'

const CONTEXT = 3
const FIRST_FEW_BYTES = 8000
const NO_NEWLINE = '\\ No newline at end of file'

/** git's buffer_is_binary: a NUL in the first 8000 bytes. */
export function isBinary(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, FIRST_FEW_BYTES)
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true
  return false
}

const latin1 = (buf: Uint8Array): string => Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1')
const utf8 = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('utf8')

/** xdl_get_hunk without blank-line ignoring: changes at most 2*ctx lines apart share a hunk. */
function hunkEnd(script: Change[], from: number): number {
  let last = from
  for (let k = from + 1; k < script.length; k++) {
    const prev = script[last]!
    if (script[k]!.i1 - (prev.i1 + prev.chg1) > 2 * CONTEXT) break
    last = k
  }
  return last
}

/** def_ff: the nearest earlier line starting with a letter, `_` or `$`, cut at 80 bytes, right-trimmed. */
function funcName(recs: string[], from: number): string {
  for (let l = from; l >= 0; l--) {
    const rec = recs[l]!
    const c = rec.charCodeAt(0)
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36) {
      let s = rec.slice(0, 80)
      let len = s.length
      while (len > 0 && ' \t\n\r'.includes(s[len - 1]!)) len--
      s = s.slice(0, len)
      return s
    }
  }
  return ''
}

function pushRecord(lines: string[], prefix: string, rec: string): void {
  if (rec.endsWith('\n')) lines.push(prefix + utf8(rec.slice(0, -1)))
  else lines.push(prefix + utf8(rec), NO_NEWLINE)
}

/** The hunks of a text diff plus their rendered `@@` blocks. */
export function textHunks(oldBuf: Uint8Array, newBuf: Uint8Array): { hunks: Hunk[]; text: string } {
  const a = splitRecords(latin1(oldBuf))
  const b = splitRecords(latin1(newBuf))
  const script = diffRecords(a, b)
  const hunks: Hunk[] = []
  let text = ''
  for (let k = 0; k < script.length; ) {
    const first = script[k]!
    const lastIdx = hunkEnd(script, k)
    const last = script[lastIdx]!
    const s1 = Math.max(first.i1 - CONTEXT, 0)
    const s2 = Math.max(first.i2 - CONTEXT, 0)
    const lctx = Math.min(CONTEXT, a.length - (last.i1 + last.chg1), b.length - (last.i2 + last.chg2))
    const e1 = last.i1 + last.chg1 + lctx
    const e2 = last.i2 + last.chg2 + lctx
    const lines: string[] = []
    for (let s = s2; s < first.i2; s++) pushRecord(lines, ' ', b[s]!)
    let p1 = first.i1
    let p2 = first.i2
    for (let c = k; c <= lastIdx; c++) {
      const ch = script[c]!
      for (; p1 < ch.i1 && p2 < ch.i2; p1++, p2++) pushRecord(lines, ' ', b[p2]!)
      for (p1 = ch.i1; p1 < ch.i1 + ch.chg1; p1++) pushRecord(lines, '-', a[p1]!)
      for (p2 = ch.i2; p2 < ch.i2 + ch.chg2; p2++) pushRecord(lines, '+', b[p2]!)
    }
    for (let s = last.i2 + last.chg2; s < e2; s++) pushRecord(lines, ' ', b[s]!)
    const lenOld = e1 - s1
    const lenNew = e2 - s2
    const hunk: Hunk = { startOld: lenOld ? s1 + 1 : s1, lenOld, startNew: lenNew ? s2 + 1 : s2, lenNew, lines }
    hunks.push(hunk)
    const fn = funcName(a, s1 - 1)
    text += hunkHeader(hunk) + (fn ? ' ' + utf8(fn) : '') + '\n' + lines.join('\n') + '\n'
    k = lastIdx + 1
  }
  return { hunks, text }
}

export function hunkHeader(h: Hunk): string {
  const range = (start: number, len: number) => (len === 1 ? `${start}` : `${start},${len}`)
  return `@@ -${range(h.startOld, h.lenOld)} +${range(h.startNew, h.lenNew)} @@`
}

export type Side = { path: string; mode: string; oid: string; bytes: Uint8Array }

/**
 * Builds a FilePatch for old → new; either side may be missing (add/delete). `abbrev` shortens
 * an oid the way git would in the `index` line.
 */
export function renderFilePatch(
  oldSide: Side | null,
  newSide: Side | null,
  abbrev: (oid: string) => string,
  /** The `diff` attribute of a path: false means binary, true text whatever the bytes, undefined lets the bytes decide. */
  diffAsText: (path: string) => boolean | undefined = () => undefined,
): FilePatch {
  const side = (newSide ?? oldSide)!
  const oldPath = oldSide?.path ?? side.path
  const newPath = newSide?.path ?? side.path
  const type: FilePatch['type'] = !oldSide ? 'added' : !newSide ? 'deleted' : oldPath !== newPath ? 'renamed' : 'modified'
  let head = `diff --git ${quotePath('a/' + oldPath)} ${quotePath('b/' + newPath)}\n`
  if (!oldSide) head += `new file mode ${newSide!.mode}\n`
  else if (!newSide) head += `deleted file mode ${oldSide.mode}\n`
  else if (oldSide.mode !== newSide.mode) head += `old mode ${oldSide.mode}\nnew mode ${newSide.mode}\n`
  if (type === 'renamed') {
    head += `similarity index 100%\nrename from ${quotePath(oldPath)}\nrename to ${quotePath(newPath)}\n`
  }
  const oldOid = oldSide?.oid ?? ZERO_OID
  const newOid = newSide?.oid ?? ZERO_OID
  const oldBytes = oldSide?.bytes ?? new Uint8Array(0)
  const newBytes = newSide?.bytes ?? new Uint8Array(0)
  // each side by its own path's diff driver, as diff_filespec_is_binary; an absent side has the other's path
  const sideBinary = (path: string, bytes: Uint8Array) => {
    const asText = diffAsText(path)
    return asText === undefined ? isBinary(bytes) : !asText
  }
  const binary = sideBinary(oldPath, oldBytes) || sideBinary(newPath, newBytes)
  const result: FilePatch = { file: newPath, type, binary, patch: '', content: '', hunks: [] }
  if (type === 'renamed') result.oldFile = oldPath
  if (oldSide) result.oldMode = oldSide.mode
  if (newSide) result.newMode = newSide.mode
  if (oldOid !== newOid) {
    const sameMode = oldSide && newSide && oldSide.mode === newSide.mode
    head += `index ${abbrev(oldOid)}..${abbrev(newOid)}${sameMode ? ' ' + newSide.mode : ''}\n`
    const aName = oldSide ? quotePath('a/' + oldPath) : '/dev/null'
    const bName = newSide ? quotePath('b/' + newPath) : '/dev/null'
    if (binary) {
      head += `Binary files ${aName} and ${bName} differ\n`
    } else if (oldBytes.length > 0 || newBytes.length > 0) {
      const { hunks, text } = textHunks(oldBytes, newBytes)
      head += `--- ${aName}\n+++ ${bName}\n` + text
      result.hunks = hunks
    }
  }
  result.patch = result.content = head
  return result
}

export const ZERO_OID = '0000000000000000000000000000000000000000'

/**
 * git's quote_c_style with core.quotepath=off: names with `"`, `\`, control characters or
 * leading/trailing... are C-quoted; bytes >= 0x80 stay as they are.
 */
export function quotePath(name: string): string {
  if (!/["\\\x00-\x1f\x7f]/.test(name)) return name
  let out = '"'
  for (const ch of name) {
    const c = ch.charCodeAt(0)
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (c === 7) out += '\\a'
    else if (c === 8) out += '\\b'
    else if (c === 11) out += '\\v'
    else if (c === 12) out += '\\f'
    else if (c < 0x20 || c === 0x7f) out += '\\' + c.toString(8).padStart(3, '0')
    else out += ch
  }
  return out + '"'
}
