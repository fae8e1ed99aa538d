/**
 * Applies selected hunks of FilePatches to a working tree, all or nothing: every path is checked
 * (resolveRepoFile) and every hunk is matched first; only then is anything written, each file
 * through a temp file and a rename, with the originals restored if a later step fails.
 * Hunks match like `git apply` without fuzz: exact context, nearest offset first, and a hunk
 * that touches the start or end of the file must still match there. As git apply does, the
 * current file is read in its clean form (the form patches are computed in) and the result is
 * written smudged (end-of-line conversion, convert.ts).
 */
import { chmodSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeFileSync, type Stats } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { BadRequestError, ConflictError, NotFoundError, PatchConflictError } from '../errors'
import { resolveRepoFile } from '../policy/paths'
import type { FilePatch, Hunk, HunkSelection } from './types'
import { patchOrigin } from './diff'
import { converterFor, type Converter } from './convert'
import { readIndex } from './dirc'
import { hashObject, openRepo, readBlob, type Repo } from './odb'
import { splitRecords } from './xdiff'
import { lstatOrNull } from './worktree'

/**
 * One file's new state: its working-tree bytes (smudged) and mode, or null bytes for a deletion;
 * `clean` is the same content in the form a commit stores (what `git add` would make the blob of).
 */
export type Op = { file: string; abs: string; bytes: Uint8Array | null; clean: Uint8Array | null; mode: string | null }
export type AppliedSelection = { applied: { file: string; hunks: number[] }[]; files: string[] }

const NO_NEWLINE = '\\'

/** Merges a selection: the union of hunks per file; an entry without hunks means the whole file. */
function normalise(patches: FilePatch[], select?: HunkSelection): Map<FilePatch, Set<number> | 'all'> {
  const byFile = new Map<string, FilePatch>()
  for (const p of patches) byFile.set(p.file, p)
  const out = new Map<FilePatch, Set<number> | 'all'>()
  if (!select) {
    for (const p of patches) out.set(p, 'all')
    return out
  }
  // The caller checked the selection against these patches (tasks/apply.ts checkSelection): every
  // file is among them and every index in range, so nothing here can be out of place.
  for (const s of select) {
    const p = byFile.get(s.file)!
    if (s.hunks === undefined || s.hunks === null) {
      out.set(p, 'all')
      continue
    }
    const prev = out.get(p)
    if (prev === 'all') continue
    const set = prev ?? new Set<number>()
    for (const h of s.hunks) set.add(h)
    out.set(p, set)
  }
  return out
}

/** Where a repo-relative file really is, every path component checked; a final symlink is not followed. */
function target(repo: Repo, file: string): string {
  resolveRepoFile(repo.dir, file)
  const parent = file.includes('/') ? resolveRepoFile(repo.dir, dirname(file)) : repo.dir
  return join(parent, basename(file))
}

export function readCurrent(abs: string, st: Stats): Buffer {
  return st.isSymbolicLink() ? Buffer.from(readlinkSync(abs, 'buffer')) : readFileSync(abs)
}

/** A working file in the form patches are computed in: clean (convert.ts), as git apply reads it. */
function readClean(convert: Converter, file: string, abs: string, st: Stats): Uint8Array {
  const bytes = readCurrent(abs, st)
  return st.isSymbolicLink() ? bytes : convert.clean(file, bytes)
}

const toBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1')

/** A hunk's old and new records (latin1 byte strings with their "\n"). */
function hunkRecords(h: Hunk): { oldRecs: string[]; newRecs: string[]; trail: number } {
  const oldRecs: string[] = []
  const newRecs: string[] = []
  const lines = h.lines
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const tag = line[0]
    if (tag === NO_NEWLINE) continue
    const rec = toBytes(line.slice(1)) + (lines[i + 1]?.[0] === NO_NEWLINE ? '' : '\n')
    if (tag === ' ' || tag === '-') oldRecs.push(rec)
    if (tag === ' ' || tag === '+') newRecs.push(rec)
  }
  let trail = 0
  for (let i = lines.length - 1; i >= 0 && (lines[i]![0] === ' ' || lines[i]![0] === NO_NEWLINE); i--) if (lines[i]![0] === ' ') trail++
  return { oldRecs, newRecs, trail }
}

function matchesAt(recs: string[], at: number, old: string[]): boolean {
  if (at < 0 || at + old.length > recs.length) return false
  for (let i = 0; i < old.length; i++) if (recs[at + i] !== old[i]) return false
  return true
}

/** Applies chosen hunks (ascending) to text, or throws PatchConflictError naming the first that fails. */
export function applyHunks(file: string, current: Uint8Array, hunks: Hunk[], chosen: number[]): Uint8Array {
  const recs = splitRecords(Buffer.from(current).toString('latin1'))
  let delta = 0
  let minPos = 0
  for (const idx of chosen) {
    const h = hunks[idx]!
    const { oldRecs, newRecs, trail } = hunkRecords(h)
    const expected = (h.lenOld === 0 ? h.startOld : h.startOld - 1) + delta
    // as git apply: a hunk at old line 0 or 1 must match at the start, one without trailing context at the end
    const atStart = h.startOld <= 1
    const atEnd = trail === 0
    let found = -1
    for (let d = 0; found < 0 && (expected - d >= minPos || expected + d <= recs.length); d++) {
      for (const at of d === 0 ? [expected] : [expected - d, expected + d]) {
        if (at < minPos || !matchesAt(recs, at, oldRecs)) continue
        if ((atStart && at !== 0) || (atEnd && at + oldRecs.length !== recs.length)) continue
        found = at
        break
      }
    }
    if (found < 0) throw new PatchConflictError(file, idx, 'its context does not match the current file')
    recs.splice(found, oldRecs.length, ...newRecs)
    delta += found - expected + newRecs.length - oldRecs.length
    minPos = found + newRecs.length
  }
  return Buffer.from(recs.join(''), 'latin1')
}

function wholeText(p: FilePatch, tag: '+' | '-'): Uint8Array {
  let text = ''
  for (const h of p.hunks) {
    const { oldRecs, newRecs } = hunkRecords(h)
    text += (tag === '+' ? newRecs : oldRecs).join('')
  }
  return Buffer.from(text, 'latin1')
}

/** New content (clean form) of a whole-file (binary) change, read back from where the diff was computed. */
async function binaryContent(repo: Repo, p: FilePatch): Promise<Uint8Array> {
  const origin = patchOrigin(p)
  if (origin?.newOid) {
    const abs = join(origin.dir, p.file)
    const st = lstatOrNull(abs)
    if (st) {
      // cleaned as the diff cleaned it: by the attributes and index of the repository it came from
      const from = openRepo(origin.dir)
      const bytes = readClean(await converterFor(from, readIndex(from.gitdir)), p.file, abs, st)
      if (hashObject('blob', bytes) === origin.newOid) return bytes
    }
    try {
      return await readBlob(repo, origin.newOid)
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      throw new PatchConflictError(p.file, 0, 'the binary content it was computed from has changed since')
    }
  }
  throw new ConflictError(
    `${p.file} is a binary change; apply it with the patch objects returned by the diff (its content is read from the workspace).`,
    'binary_unavailable',
  )
}

function sameAsOld(p: FilePatch, current: Uint8Array): boolean {
  const origin = patchOrigin(p)
  if (origin?.oldOid) return hashObject('blob', current) === origin.oldOid
  if (p.binary) return false
  return Buffer.compare(Buffer.from(current), Buffer.from(wholeText(p, '-'))) === 0
}

async function plan(repo: Repo, convert: Converter, p: FilePatch, chosen: Set<number> | 'all'): Promise<{ ops: Op[]; hunks: number[] }> {
  const all = p.hunks.map((_, i) => i)
  const hunks = chosen === 'all' ? all : [...chosen].sort((a, b) => a - b)
  const whole = hunks.length === all.length
  const abs = target(repo, p.file)
  const st = lstatOrNull(abs)
  const newMode = p.newMode ?? null
  if (p.type === 'added') {
    if (!whole) throw new BadRequestError(`${p.file} is a new file; select all of it or none.`, 'partial_new_file')
    if (st) throw new PatchConflictError(p.file, 0, 'the file already exists')
    const bytes = p.binary ? await binaryContent(repo, p) : wholeText(p, '+')
    const mode = newMode ?? '100644'
    return { ops: [{ file: p.file, abs, bytes: mode === '120000' ? bytes : convert.smudge(p.file, bytes), clean: bytes, mode }], hunks }
  }
  if (p.type === 'deleted') {
    if (!whole) throw new BadRequestError(`${p.file} is deleted; select all of it or none.`, 'partial_deletion')
    if (!st) throw new PatchConflictError(p.file, 0, 'the file is already gone')
    if (!sameAsOld(p, readClean(convert, p.file, abs, st))) throw new PatchConflictError(p.file, 0, 'the file has changed since the diff')
    return { ops: [{ file: p.file, abs, bytes: null, clean: null, mode: null }], hunks }
  }
  const srcFile = p.type === 'renamed' && p.oldFile ? p.oldFile : p.file
  const srcAbs = srcFile === p.file ? abs : target(repo, srcFile)
  const srcSt = srcFile === p.file ? st : lstatOrNull(srcAbs)
  if (!srcSt) throw new PatchConflictError(srcFile, hunks[0] ?? 0, 'the file does not exist')
  if (srcFile !== p.file && st) throw new PatchConflictError(p.file, 0, 'the rename target already exists')
  const current = readClean(convert, srcFile, srcAbs, srcSt)
  let bytes: Uint8Array
  if (p.binary) {
    if (!sameAsOld(p, current)) throw new PatchConflictError(p.file, 0, 'the binary file has changed since the diff')
    bytes = await binaryContent(repo, p)
  } else if (p.hunks.length === 0 && p.type === 'renamed' && patchOrigin(p)?.oldOid && !sameAsOld(p, current)) {
    throw new PatchConflictError(p.file, 0, 'the renamed file has changed since the diff')
  } else {
    bytes = applyHunks(p.file, current, p.hunks, hunks)
  }
  const mode = whole && newMode ? newMode : srcSt.isSymbolicLink() ? '120000' : srcSt.mode & 0o100 ? '100755' : '100644'
  // written as git apply writes it: smudged (convert.ts) for the working tree
  const ops: Op[] = [{ file: p.file, abs, bytes: mode === '120000' ? bytes! : convert.smudge(p.file, bytes!), clean: bytes!, mode }]
  if (srcFile !== p.file) ops.push({ file: srcFile, abs: srcAbs, bytes: null, clean: null, mode: null })
  return { ops, hunks }
}

export async function applyPatches(repo: Repo, patches: FilePatch[], select?: HunkSelection): Promise<AppliedSelection> {
  const { ops, applied } = await planApply(repo, patches, select)
  commitOps(ops)
  return { applied, files: ops.map((o) => o.file) }
}

/** Every file's new state for the selection, or the error (400/409) of the first that cannot be applied; writes nothing. */
export async function planApply(repo: Repo, patches: FilePatch[], select?: HunkSelection): Promise<{ ops: Op[]; applied: AppliedSelection['applied'] }> {
  if (!Array.isArray(patches)) throw new BadRequestError('patches must be a list.', 'invalid_patches')
  const chosen = normalise(patches, select)
  const convert = await converterFor(repo, readIndex(repo.gitdir))
  const ops: Op[] = []
  const applied: AppliedSelection['applied'] = []
  for (const [p, sel] of chosen) {
    if (sel !== 'all' && sel.size === 0) continue
    const r = await plan(repo, convert, p, sel)
    ops.push(...r.ops)
    applied.push({ file: p.file, hunks: r.hunks })
  }
  const seen = new Set<string>()
  for (const op of ops) {
    if (seen.has(op.abs)) throw new BadRequestError(`${op.file} is changed by more than one patch.`, 'duplicate_file')
    seen.add(op.abs)
  }
  return { ops, applied }
}

/** Writes every temp file first, then renames/deletes; restores the originals if any step fails. */
function commitOps(ops: Op[]): void {
  const temps: { op: Op; tmp: string }[] = []
  try {
    for (const op of ops) {
      if (!op.bytes) continue
      mkdirSync(dirname(op.abs), { recursive: true })
      const tmp = join(dirname(op.abs), `.${basename(op.abs)}.cockpit-${process.pid}-${Math.random().toString(36).slice(2)}`)
      if (op.mode === '120000') symlinkSync(Buffer.from(op.bytes).toString('utf8'), tmp)
      else writeFileSync(tmp, op.bytes, { mode: op.mode === '100755' ? 0o755 : 0o644 })
      if (op.mode !== '120000') chmodSync(tmp, op.mode === '100755' ? 0o755 : 0o644)
      temps.push({ op, tmp })
    }
  } catch (err) {
    for (const t of temps) unlinkSync(t.tmp)
    throw err
  }
  const undo: (() => void)[] = []
  try {
    for (const op of ops) {
      const st = lstatOrNull(op.abs)
      if (st) {
        const original = readCurrent(op.abs, st)
        const link = st.isSymbolicLink()
        const mode = st.mode & 0o777
        undo.push(() => {
          if (lstatOrNull(op.abs)) unlinkSync(op.abs)
          if (link) symlinkSync(original.toString('utf8'), op.abs)
          else writeFileSync(op.abs, original, { mode })
        })
      } else {
        undo.push(() => {
          if (lstatOrNull(op.abs)) unlinkSync(op.abs)
        })
      }
      const t = temps.find((x) => x.op === op)
      if (t) renameSync(t.tmp, op.abs)
      else if (st) unlinkSync(op.abs)
    }
  } catch (err) {
    for (const u of undo.reverse()) u()
    for (const t of temps) if (lstatOrNull(t.tmp)) unlinkSync(t.tmp)
    throw err
  }
}
