import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * Every entry under `root` (not following symlinks) with its type, mode, size and content hash,
 * except the `excluded` absolute paths. Two snapshots that differ mean something was written.
 */
export function snapshotTree(root: string, excluded: readonly string[] = []): Map<string, string> {
  const entries = new Map<string, string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (excluded.includes(path)) continue
      const stats = lstatSync(path)
      const key = relative(root, path)
      if (stats.isSymbolicLink()) entries.set(key, `link ${readlinkSync(path)}`)
      else if (stats.isDirectory()) {
        entries.set(key, `dir ${(stats.mode & 0o7777).toString(8)}`)
        walk(path)
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex')
        entries.set(key, `file ${(stats.mode & 0o7777).toString(8)} ${stats.size} ${hash}`)
      }
    }
  }
  walk(root)
  return entries
}

/** Human-readable differences between two snapshots (added, removed, changed), empty when equal. */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = []
  for (const [path, signature] of after) {
    const old = before.get(path)
    if (old === undefined) changes.push(`added ${path} (${signature})`)
    else if (old !== signature) changes.push(`changed ${path}: ${old} -> ${signature}`)
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push(`removed ${path}`)
  return changes
}
