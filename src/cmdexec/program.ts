import { BadRequestError, ForbiddenError } from '../errors'
import { findOnPath } from '../policy/programs'

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
  const found = findOnPath(name, pathVariable)
  if (found) return found
  throw new BadRequestError(`"${name}" is allowed but is not installed on the server's PATH.`, 'program_not_found')
}
