/**
 * Working tree vs a base commit, as `git add -A -N && git diff <base>` would print it: tracked
 * changes plus untracked, not-ignored files. Exact-content renames (a deleted and an added path
 * with the same non-empty blob) become one 'renamed' patch, like git's 100% similarity renames;
 * partial-similarity renames stay a delete plus an add. Gitlinks (submodules) are left out. Working
 * files are diffed in their clean form, as git does: end-of-line conversion from .gitattributes
 * and core.autocrlf applies (convert.ts), and the `diff` attribute can force binary or text.
 */
import { join } from 'node:path'
import type { FilePatch } from './types'
import { comparePaths, readIndex, type GitIndex } from './dirc'
import { abbreviator, commitTree, flattenTree, readBlob, resolveCommit, type Repo } from './odb'
import { renderFilePatch, type Side } from './unified'
import { hashWorkFile, readCleanContent, readWorkingSet, type WorkFile } from './worktree'

type Flat = Map<string, { mode: string; oid: string }>

/** Where a patch's new content can be read back from, for whole-file (binary) applies. */
export type PatchOrigin = { dir: string; oldOid: string | null; newOid: string | null }
const origins = new WeakMap<FilePatch, PatchOrigin>()
export const patchOrigin = (p: FilePatch): PatchOrigin | undefined => origins.get(p)
/** Re-attaches the origin of a patch read back from storage (state.db keeps it beside the patch). */
export const restorePatchOrigin = (p: FilePatch, origin: PatchOrigin): void => void origins.set(p, origin)

const flatCache = new Map<string, Flat>()

/** A base tree flattened to path → blob; cached by tree oid (immutable), a few at a time. */
export async function flatTree(repo: Repo, tree: string | null): Promise<Flat> {
  if (!tree) return new Map()
  const hit = flatCache.get(tree)
  if (hit) {
    flatCache.delete(tree)
    flatCache.set(tree, hit)
    return hit
  }
  const flat = await flattenTree(repo, tree)
  flatCache.set(tree, flat)
  if (flatCache.size > 8) flatCache.delete(flatCache.keys().next().value!)
  return flat
}

export async function baseTree(repo: Repo, base: string): Promise<{ commit: string | null; tree: string | null }> {
  const commit = await resolveCommit(repo, base)
  return { commit, tree: await commitTree(repo, commit) }
}

type Pending = { oldPath: string | null; newPath: string | null }

type BaseEntry = { mode: string; oid: string }
/** The base entry of each index entry's path (by index position), and the base paths the index lacks. */
type IndexVsBase = { tree: string | null; byEntry: (BaseEntry | undefined)[]; unindexed: string[] }

const pairs = new WeakMap<GitIndex, IndexVsBase>()

/**
 * Pairs index entries with base entries once per (parsed index, base tree): both are cached and
 * immutable, so a warm diff looks nothing up by path for the files whose stat data is clean.
 */
function indexVsBase(index: GitIndex, tree: string | null, base: Flat): IndexVsBase {
  const hit = pairs.get(index)
  if (hit && hit.tree === tree) return hit
  const byEntry: (BaseEntry | undefined)[] = new Array(index.entries.length)
  const indexed = new Set<string>()
  for (let i = 0; i < index.entries.length; i++) {
    const path = index.entries[i]!.path
    byEntry[i] = base.get(path)
    indexed.add(path)
  }
  const unindexed: string[] = []
  for (const path of base.keys()) if (!indexed.has(path)) unindexed.push(path)
  const pair = { tree, byEntry, unindexed }
  pairs.set(index, pair)
  return pair
}

export async function diffAgainst(repo: Repo, tree: string | null): Promise<FilePatch[]> {
  const base = await flatTree(repo, tree)
  const index = readIndex(repo.gitdir)
  const pair = indexVsBase(index, tree, base)
  // files unchanged since the base are left out of `files` (only marked present)
  const { files, present, convert } = await readWorkingSet(repo, { index, base: pair.byEntry })
  const isLink = (mode: string) => mode === '160000'
  const added: WorkFile[] = []
  const changed: string[] = []
  const newBytes = new Map<string, Uint8Array>()
  for (const f of files.values()) {
    const b = f.at >= 0 ? pair.byEntry[f.at] : base.get(f.path)
    if (isLink(f.mode) || (b && isLink(b.mode))) continue
    if (!b) {
      added.push(f)
      continue
    }
    if (f.oid === b.oid && f.mode === b.mode) continue
    const { oid, bytes } = hashWorkFile(repo, f, convert)
    if (bytes) newBytes.set(f.path, bytes)
    if (oid !== b.oid || f.mode !== b.mode) changed.push(f.path)
  }
  // deleted: base paths with no working file, whether the index still has them or not
  const deletedSet = new Set<string>()
  for (let i = 0; i < index.entries.length; i++) {
    const b = pair.byEntry[i]
    if (b && !present[i] && !isLink(b.mode) && !files.has(index.entries[i]!.path)) deletedSet.add(index.entries[i]!.path)
  }
  for (const path of pair.unindexed) if (!files.has(path) && !isLink(base.get(path)!.mode)) deletedSet.add(path)
  // in base order, as the loop over the base map gave them before
  const deleted = deletedSet.size === 0 ? [] : [...base.keys()].filter((p) => deletedSet.has(p))

  const pending: Pending[] = changed.map((p) => ({ oldPath: p, newPath: p }))
  const deletedByOid = new Map<string, string[]>()
  for (const p of deleted) {
    const oid = base.get(p)!.oid
    if (oid === EMPTY_BLOB) continue
    deletedByOid.set(oid, [...(deletedByOid.get(oid) ?? []), p])
  }
  const renamedFrom = new Set<string>()
  for (const f of added) {
    const { oid, bytes } = hashWorkFile(repo, f, convert)
    if (bytes) newBytes.set(f.path, bytes)
    const candidates = (deletedByOid.get(oid) ?? []).filter((p) => !renamedFrom.has(p))
    const name = f.path.slice(f.path.lastIndexOf('/') + 1)
    const from = candidates.find((p) => p.slice(p.lastIndexOf('/') + 1) === name) ?? candidates[0]
    if (from) renamedFrom.add(from)
    pending.push({ oldPath: from ?? null, newPath: f.path })
  }
  for (const p of deleted) if (!renamedFrom.has(p)) pending.push({ oldPath: p, newPath: null })
  pending.sort((a, b) => comparePaths((a.newPath ?? a.oldPath)!, (b.newPath ?? b.oldPath)!))

  const abbrev = abbreviator(repo)
  const out: FilePatch[] = []
  for (const p of pending) {
    let oldSide: Side | null = null
    let newSide: Side | null = null
    if (p.oldPath) {
      const b = base.get(p.oldPath)!
      oldSide = { path: p.oldPath, mode: b.mode, oid: b.oid, bytes: await readBlob(repo, b.oid) }
    }
    if (p.newPath) {
      const f = files.get(p.newPath)!
      // a skip-worktree entry has no working file: its content is the index blob
      const bytes = newBytes.get(f.path) ?? (f.stat ? readCleanContent(convert, join(repo.dir, f.path), f.path, f.stat) : await readBlob(repo, f.oid!))
      newSide = { path: f.path, mode: f.mode, oid: f.oid!, bytes }
    }
    const patch = renderFilePatch(oldSide, newSide, abbrev, (path) => convert.diffAsText(path))
    origins.set(patch, { dir: repo.dir, oldOid: oldSide?.oid ?? null, newOid: newSide?.oid ?? null })
    out.push(patch)
  }
  return out
}

export const EMPTY_BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
