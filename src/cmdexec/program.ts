import { accessSync, constants, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { BadRequestError, ForbiddenError } from '../http/errors'

/**
 * Finds the program a command names on the server's PATH. Done here rather than by the spawn or
 * by Bun.which so that it never depends on a working directory: a name with a slash (`./npm`,
 * `bin/x`) is refused outright, and PATH entries that are relative or empty (which a shell reads
 * as "the current directory", i.e. the repo the phone controls) are skipped. Planting an `npm`
 * script in the repo therefore never makes it run.
 */
export function resolveProgram(name: string, pathVariable: string): string {
  if (name.includes('/')) {
    throw new ForbiddenError(
      `The program "${name}" contains a "/"; programs are looked up on the server's PATH, never by path.`,
      'command_not_allowed',
    )
  }
  if (name === '' || name === '.' || name === '..') {
    throw new ForbiddenError(`"${name}" is not a program name.`, 'command_not_allowed')
  }
  for (const dir of pathVariable.split(':')) {
    if (!isAbsolute(dir)) continue
    const candidate = join(dir, name)
    if (isExecutableFile(candidate)) return candidate
  }
  throw new BadRequestError(`"${name}" is allowed but is not installed on the server's PATH.`, 'program_not_found')
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false // missing, unreadable or not executable: keep looking on PATH
  }
}
