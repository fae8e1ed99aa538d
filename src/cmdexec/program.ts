import { BadRequestError, ForbiddenError } from '../errors'
import { resolveProgram } from '../policy/programs'

/**
 * Finds the program a command names on the server's PATH, never by path: a name with a slash
 * (`./npm`, `bin/x`, `/bin/sh`) is refused outright and relative or empty PATH entries are
 * skipped, so planting an `npm` script in the repo never makes it run.
 */
export function resolveCommandProgram(name: string, pathVariable: string): string {
  const resolved = resolveProgram(name, pathVariable, { allowAbsolutePath: false })
  if (resolved.ok) return resolved.path
  switch (resolved.refusal) {
    case 'path_not_allowed':
      throw new ForbiddenError(
        `The program "${name}" contains a "/"; programs are looked up on the server's PATH, never by path.`,
        'command_not_allowed',
      )
    case 'not_a_name':
      throw new ForbiddenError(`"${name}" is not a program name.`, 'command_not_allowed')
    case 'not_found':
      throw new BadRequestError(`"${name}" is allowed but is not installed on the server's PATH.`, 'program_not_found')
  }
}
