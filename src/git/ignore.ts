/**
 * A gitignore matcher (gitignore(5)): comments, escapes, negation, dir-only `foo/`, anchored
 * patterns (a slash at the start or middle), `*`, `?`, `[...]` and `**`; nested `.gitignore`
 * files override their parents, `.git/info/exclude` is the weakest. A global core.excludesFile is
 * not read: the server should not depend on the account's personal git setup.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

type Rule = { re: RegExp; negate: boolean; dirOnly: boolean; basenameOnly: boolean }
/** The rules of one file, with the directory (relative to the repo, "" for root) they apply below. */
export type RuleSet = { base: string; rules: Rule[] }

/** A wildmatch glob (WM_PATHNAME: `*` and `?` stop at `/`) as a regex body; attributes.ts shares it. */
export function globToRegex(glob: string): string {
  let re = ''
  let i = 0
  while (i < glob.length) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/'
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/'
        if (atStart && atEnd) {
          if (i + 2 === glob.length) re += '.*'
          else {
            re += '(?:.*/)?'
            i += 3
            continue
          }
          i += 2
          continue
        }
      }
      re += '[^/]*'
      while (glob[i] === '*') i++
      continue
    }
    if (c === '?') re += '[^/]'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) re += '\\['
      else {
        let body = glob.slice(i + 1, close)
        let neg = false
        if (body[0] === '!' || body[0] === '^') {
          neg = true
          body = body.slice(1)
        }
        body = body.replace(/\\/g, '\\\\').replace(/\[:alpha:\]/g, 'a-zA-Z').replace(/\[:digit:\]/g, '0-9').replace(/\[:space:\]/g, ' \\t\\n\\r')
        re += `[${neg ? '^/' : ''}${body.replace(/]/g, '\\]')}]`
        i = close + 1
        continue
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      re += escapeRe(glob[i + 1]!)
      i += 2
      continue
    } else re += escapeRe(c)
    i++
  }
  return re
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

export function parseIgnore(text: string, base: string): RuleSet {
  const rules: Rule[] = []
  for (let line of text.split('\n')) {
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line === '' || line.startsWith('#')) continue
    // trailing spaces are dropped unless escaped with a backslash
    line = line.replace(/(?<!\\)\s+$/, '')
    if (line.endsWith('\\ ')) line = line.slice(0, -2) + ' '
    let negate = false
    if (line.startsWith('!')) {
      negate = true
      line = line.slice(1)
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1)
    let dirOnly = false
    if (line.endsWith('/')) {
      dirOnly = true
      line = line.slice(0, -1)
    }
    if (line === '') continue
    const basenameOnly = !line.includes('/')
    if (line.startsWith('/')) line = line.slice(1)
    rules.push({ re: new RegExp(`^${globToRegex(line)}$`), negate, dirOnly, basenameOnly })
  }
  return { base, rules }
}

/** Reads `<dir>/.gitignore` of a repo-relative directory, or null when there is none. */
export function loadIgnoreFile(repoDir: string, relDir: string): RuleSet | null {
  const file = join(repoDir, relDir, '.gitignore')
  if (!existsSync(file)) return null
  return parseIgnore(readFileSync(file, 'utf8'), relDir)
}

export function loadExclude(gitdir: string): RuleSet | null {
  const file = join(gitdir, 'info', 'exclude')
  if (!existsSync(file)) return null
  return parseIgnore(readFileSync(file, 'utf8'), '')
}

/**
 * Is repo-relative `path` ignored by `stack` (weakest first: info/exclude, root, then deeper
 * .gitignore files)? The caller never asks about paths inside an ignored directory.
 */
export function isIgnored(stack: RuleSet[], path: string, isDir: boolean): boolean {
  const slash = path.lastIndexOf('/')
  const name = path.slice(slash + 1)
  for (let s = stack.length - 1; s >= 0; s--) {
    const set = stack[s]!
    const rel = set.base === '' ? path : path.slice(set.base.length + 1)
    for (let r = set.rules.length - 1; r >= 0; r--) {
      const rule = set.rules[r]!
      if (rule.dirOnly && !isDir) continue
      if (rule.re.test(rule.basenameOnly ? name : rel)) return !rule.negate
    }
  }
  return false
}
