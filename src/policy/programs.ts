import { accessSync, constants, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'

/** A regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false // missing, unreadable or not executable
  }
}

/**
 * Looks a bare program name up on a PATH value, independent of any working directory: entries
 * that are relative or empty (which a shell reads as "the current directory", i.e. a repo the
 * phone controls) are skipped, so a program planted in the repo is never what runs.
 */
export function findOnPath(name: string, pathVariable: string): string | null {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) return null
  for (const dir of pathVariable.split(':')) {
    if (!isAbsolute(dir)) continue
    const candidate = join(dir, name)
    if (isExecutableFile(candidate)) return candidate
  }
  return null
}
