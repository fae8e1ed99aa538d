/**
 * The few core.* settings the git layer obeys, re-read only when .git/config changes
 * (isomorphic-git parses the file on every call, and a diff asks on every run).
 */
import { statSync } from 'node:fs'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { git } from './isogit'
import type { Repo } from './odb'

export type CoreConfig = {
  /** core.filemode: trust the executable bit of working files (default true). */
  fileMode: boolean
  /** core.autocrlf: false (default), true or input. */
  autocrlf: boolean | 'input'
  /** core.eol: lf, crlf, or native (LF here). */
  eol: 'lf' | 'crlf' | 'native'
}

const byConfigFile = new Map<string, { key: string; config: CoreConfig }>()

/** git's boolean spellings (config.c git_parse_maybe_bool); `undefined` when absent. */
function bool(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'boolean') return v
  const s = String(v).toLowerCase()
  if (['true', 'yes', 'on', '1', ''].includes(s)) return true
  if (['false', 'no', 'off', '0'].includes(s)) return false
  return undefined
}

export async function coreConfig(repo: Repo): Promise<CoreConfig> {
  const file = join(repo.gitdir, 'config')
  const st = statSync(file, { bigint: true, throwIfNoEntry: false })
  const key = st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : 'none'
  const hit = byConfigFile.get(file)
  if (hit && hit.key === key) return hit.config
  const get = (path: string) => git.getConfig({ fs, gitdir: repo.gitdir, path })
  const [fileMode, autocrlf, eol] = await Promise.all([get('core.filemode'), get('core.autocrlf'), get('core.eol')])
  const eolText = typeof eol === 'string' ? eol.toLowerCase() : ''
  const config: CoreConfig = {
    fileMode: bool(fileMode) ?? true,
    autocrlf: typeof autocrlf === 'string' && autocrlf.toLowerCase() === 'input' ? 'input' : (bool(autocrlf) ?? false),
    eol: eolText === 'lf' || eolText === 'crlf' ? eolText : 'native',
  }
  byConfigFile.delete(file)
  if (byConfigFile.size >= 64) byConfigFile.delete(byConfigFile.keys().next().value!)
  byConfigFile.set(file, { key, config })
  return config
}
