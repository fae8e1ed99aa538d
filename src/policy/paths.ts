import { realpathSync, existsSync, lstatSync } from 'node:fs'
import { isAbsolute, relative, resolve, sep, dirname, basename, join } from 'node:path'
import { BadRequestError, ForbiddenError } from '../errors'

/** True when `child` is `root` itself or lies below it. Both must already be absolute and normalised. */
export function isInside(root: string, child: string): boolean {
  if (child === root) return true
  const rel = relative(root, child)
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel)
}

/**
 * Resolves the deepest existing ancestor with realpath, so that a path that does not exist yet
 * (a file a patch is about to create) is still judged by where its parent really is.
 */
export function realpathAllowingMissing(path: string): string {
  let existing = resolve(path)
  const missing: string[] = []
  while (!existsSync(existing)) {
    if (isDanglingLink(existing)) {
      throw new ForbiddenError(`${existing} is a symlink to nowhere; refusing to write through it.`, 'path_not_allowed')
    }
    const parent = dirname(existing)
    if (parent === existing) break
    missing.unshift(basename(existing))
    existing = parent
  }
  return join(realpathSync(existing), ...missing)
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/**
 * Resolves a repo the client asked for and checks it against the allowlist (whose entries are
 * already realpaths). Symlinks are followed first, so one that leads out of an allowed root is refused.
 */
export function resolveAllowedRepo(requested: string, allowlist: readonly string[]): string {
  if (typeof requested !== 'string' || requested.trim() === '') {
    throw new BadRequestError('repo must be a non-empty path.', 'invalid_repo')
  }
  if (!isAbsolute(requested)) {
    throw new BadRequestError(`repo must be an absolute path; got "${requested}".`, 'invalid_repo')
  }
  if (requested.includes('\0')) throw new BadRequestError('repo contains a NUL byte.', 'invalid_repo')
  let real: string
  try {
    real = realpathSync(requested)
  } catch {
    // Existence is only revealed for paths inside the allowlist, so probing the disk gains nothing.
    if (!allowlist.some((root) => isInside(root, resolve(requested)))) {
      throw new ForbiddenError(`repo ${requested} is not inside REPO_ALLOWLIST.`, 'repo_not_allowed')
    }
    throw new BadRequestError(`repo ${requested} does not exist.`, 'repo_not_found')
  }
  if (!allowlist.some((root) => isInside(root, real))) {
    throw new ForbiddenError(`repo ${requested} is not inside REPO_ALLOWLIST.`, 'repo_not_allowed')
  }
  if (!lstatSync(real).isDirectory()) {
    throw new BadRequestError(`repo ${requested} is not a directory.`, 'invalid_repo')
  }
  return real
}

/**
 * Resolves a path a client or a patch names, relative to `root` (or absolute inside it), and
 * refuses anything that leaves the root, including through a symlink. Returns the real path.
 */
export function resolveInside(root: string, path: string, what = 'path'): string {
  if (typeof path !== 'string' || path.includes('\0')) {
    throw new ForbiddenError(`${what} is not a valid path.`, 'path_not_allowed')
  }
  const realRoot = realpathSync(root)
  const candidate = isAbsolute(path) ? resolve(path) : resolve(realRoot, path)
  const real = realpathAllowingMissing(candidate)
  if (!isInside(realRoot, real)) {
    throw new ForbiddenError(`${what} ${path} is outside the repository.`, 'path_not_allowed')
  }
  return real
}

/**
 * Checks a repo-relative file name that comes from a patch or a selection: no absolute paths,
 * no `..` segments, nothing inside `.git`, and no symlink on the way that leaves the repo.
 * Returns the absolute real path where the file is (or would be) written.
 */
export function resolveRepoFile(repoRoot: string, file: string): string {
  if (typeof file !== 'string' || file === '' || file.includes('\0') || file.includes('\\')) {
    throw new ForbiddenError(`file path "${String(file)}" is not allowed.`, 'path_not_allowed')
  }
  if (isAbsolute(file)) {
    throw new ForbiddenError(`file path ${file} must be relative to the repository.`, 'path_not_allowed')
  }
  const segments = file.split('/')
  if (segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new ForbiddenError(`file path ${file} must not contain "..", "." or empty segments.`, 'path_not_allowed')
  }
  if (segments[0]!.toLowerCase() === '.git' || segments.some((s) => s.toLowerCase() === '.git')) {
    throw new ForbiddenError(`file path ${file} is inside .git.`, 'path_not_allowed')
  }
  return resolveInside(repoRoot, file, 'file path')
}
