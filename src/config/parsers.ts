import { existsSync, realpathSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

/** A bad setting: one line naming the variable; main.ts prints it and exits non-zero. */
export class ConfigError extends Error {}

/** What a parser may need besides the raw text: settings parsed before it, the start directory. */
export type ParseContext = { name: string; devMode: boolean; cwd: string }

export type Parser<T> = (raw: string, context: ParseContext) => T

export function integer(min: number, max: number): Parser<number> {
  return (raw, { name }) => {
    if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: "${raw}" is not a whole number; use ${min} to ${max}`)
    const value = Number(raw.trim())
    if (value < min || value > max) throw new ConfigError(`${name}: ${value} is out of range; use ${min} to ${max}`)
    return value
  }
}

export const boolean: Parser<boolean> = (raw, { name }) => {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(`${name}: "${raw}" is not a boolean; use true or false`)
}

export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> {
  return (raw, { name }) => {
    const value = raw.trim().toLowerCase()
    if (!(choices as readonly string[]).includes(value)) throw new ConfigError(`${name}: "${raw}" is not one of ${choices.join(', ')}`)
    return value as T
  }
}

export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

export const list: Parser<readonly string[]> = (raw) => Object.freeze(splitList(raw))

export const directoryList: Parser<readonly string[]> = (raw, { name }) => {
  const dirs = splitList(raw)
  if (dirs.length === 0) throw new ConfigError(`${name}: empty; give at least one absolute directory`)
  return Object.freeze(
    dirs.map((dir) => {
      if (!isAbsolute(dir)) throw new ConfigError(`${name}: "${dir}" is not an absolute path; write it from /`)
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${name}: "${dir}" is not an existing directory`)
      return realpathSync(dir)
    }),
  )
}

export const origins: Parser<readonly string[]> = (raw, { name }) =>
  Object.freeze(
    splitList(raw).map((origin) => {
      let url: URL
      try {
        url = new URL(origin)
      } catch {
        throw new ConfigError(`${name}: "${origin}" is not an origin like http://localhost:19006`)
      }
      if (url.origin === 'null') throw new ConfigError(`${name}: "${origin}" has no usable origin`)
      return url.origin
    }),
  )

export const hostNames: Parser<readonly string[]> = (raw) => Object.freeze(splitList(raw).map((h) => h.toLowerCase()))

export const publicUrl: Parser<URL | null> = (raw, { name }) => {
  if (raw.trim() === '') return null
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError(`${name}: "${raw}" is not a URL like https://my-tunnel.example`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name}: "${raw}" must start with http:// or https://`)
  return url
}

export const nonEmpty: Parser<string> = (raw, { name }) => {
  const value = raw.trim()
  if (value === '') throw new ConfigError(`${name}: empty`)
  return value
}

export const agentName: Parser<string> = (raw, { name }) => {
  const value = raw.trim()
  if (!/^[a-z0-9_-]+$/.test(value)) throw new ConfigError(`${name}: "${value}" is not an agent name`)
  return value
}

export const absoluteDir: Parser<string> = (raw, { name }) => {
  const path = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw
  if (!isAbsolute(path)) throw new ConfigError(`${name}: "${path}" is not an absolute path`)
  return resolve(path)
}

const WEAK_SECRETS = new Set(['change_me', 'changeme', 'secret', 'password'])

/** '' (unset) stays '' so the loader makes a random one and says so. */
export const jwtSecret: Parser<string> = (raw, { name, devMode }) => {
  if (raw === '') return ''
  const weak = WEAK_SECRETS.has(raw.toLowerCase()) || Buffer.byteLength(raw) < 32
  if (weak && !devMode) throw new ConfigError(`${name}: too weak (change_me or under 32 bytes); use e.g. \`openssl rand -hex 32\``)
  return raw
}

export const pairingToken: Parser<string> = (raw, { name, devMode }) => {
  if (raw !== '' && Buffer.byteLength(raw) < 16 && !devMode) {
    throw new ConfigError(`${name}: too short (under 16 bytes); leave it unset for a random one`)
  }
  return raw
}
