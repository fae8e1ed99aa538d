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

/** Why a program name did not resolve; each caller words it for its own context. */
export type ProgramRefusal =
  /** '', '.' or '..': not something PATH can name. */
  | 'not_a_name'
  /** A path where only names are allowed (`./npm`, `bin/x`, or any path when absolute ones are off). */
  | 'path_not_allowed'
  /** A name not found as an executable file on PATH, or an absolute path that is not one. */
  | 'not_found'

export type ProgramResolution = { ok: true; path: string } | { ok: false; refusal: ProgramRefusal }

export interface ResolveProgramOptions {
  /**
   * Whether an absolute path is taken as is. The operator's own configuration (AGENT_<NAME>_CMD)
   * may name one; a command typed on the phone may not, since the phone could then run any file.
   */
  allowAbsolutePath: boolean
}

/**
 * Resolves a program the way the server finds it: a bare name on PATH (see findOnPath), an
 * absolute path as is when the caller allows it. A relative path with a slash is always refused:
 * it would depend on the server's cwd (and, in a repo or workspace, on files the phone or the
 * agent may write). Never depends on a working directory, never runs anything.
 */
export function resolveProgram(file: string, pathVariable: string, options: ResolveProgramOptions): ProgramResolution {
  if (file === '' || file === '.' || file === '..') return { ok: false, refusal: 'not_a_name' }
  if (file.includes('/')) {
    if (!options.allowAbsolutePath || !isAbsolute(file)) return { ok: false, refusal: 'path_not_allowed' }
    return isExecutableFile(file) ? { ok: true, path: file } : { ok: false, refusal: 'not_found' }
  }
  const found = findOnPath(file, pathVariable)
  return found === null ? { ok: false, refusal: 'not_found' } : { ok: true, path: found }
}
