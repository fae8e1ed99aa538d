/**
 * The disk a directory tree takes for the workspace quota: apparent sizes of its files and
 * symlinks (never followed; directories themselves count nothing). Runs on a git worker with
 * synchronous calls: a 10k-file workspace took 100-150 ms this way against 340-690 ms for the
 * one-await-per-entry walk on the server's thread that it replaced (measured on the 2-core
 * machine, under load), and that walk ran twice in every task's path to `completed`.
 */
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Something that vanished, or cannot be read, while measuring takes no space we can count. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM'])

function quiet<T>(read: () => T): T | null {
  try {
    return read()
  } catch (error) {
    if (GONE.has((error as NodeJS.ErrnoException).code ?? '')) return null
    throw error
  }
}

/** Bytes under `path` (the path itself when it is a file or symlink). */
export function treeBytes(path: string): number {
  const st = quiet(() => lstatSync(path))
  if (!st) return 0
  return st.isDirectory() ? dirBytes(path) : st.size
}

function dirBytes(dir: string): number {
  const entries = quiet(() => readdirSync(dir, { withFileTypes: true }))
  if (!entries) return 0
  let total = 0
  for (const entry of entries) {
    const path = join(dir, entry.name)
    // d_type says "directory" without a stat; anything else is lstat'ed (an unknown d_type too)
    total += entry.isDirectory() ? dirBytes(path) : treeBytes(path)
  }
  return total
}
