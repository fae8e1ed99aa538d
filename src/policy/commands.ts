
/**
 * Command policy, pure: how a `cmd` string becomes argv and whether the allowlist lets it run.
 *
 * Words are split the way a POSIX shell splits them, and nothing else a shell does happens:
 * no variables, no `$()`, no backticks, no globs, no redirections, no `;`/`&&`/`|`. Those are plain
 * characters inside words, so `echo hello; id` is the words `echo`, `hello;`, `id`.
 *
 * Control characters: an unquoted newline is a command separator to a shell, so a client sending
 * `npm test\nid` means two commands. Rather than guess (joining it into a word or treating it as a
 * space), any unquoted control character other than tab is refused with 400: the request is
 * malformed, not merely off the allowlist. Inside quotes a newline is data (as in a shell) and is
 * kept; NUL is refused everywhere because no argv can carry it.
 */

const BLANK = new Set([' ', '\t'])
/** Inside double quotes a backslash escapes only these (POSIX 2.2.3); elsewhere it is literal. */
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', '\\', '$', '`', '\n'])

function isControl(ch: string): boolean {
  const code = ch.charCodeAt(0)
  return code < 0x20 || code === 0x7f
}

function describeChar(ch: string): string {
  return `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * A command line that cannot be split. It has no status: each caller words it for its context
 * (a 400 for /api/cmd, a start-up error naming AGENT_<NAME>_CMD or CMD_ALLOWLIST).
 */
export class CommandSyntaxError extends Error {}

function invalid(message: string): CommandSyntaxError {
  return new CommandSyntaxError(message)
}

export function splitCommandWords(cmd: string): string[] {
  const words: string[] = []
  let word = ''
  // A word exists once anything (even an empty pair of quotes) has been seen since the last blank.
  let inWord = false
  let i = 0
  const chars = [...cmd] // code points, so a backslash never splits a surrogate pair

  while (i < chars.length) {
    const ch = chars[i]!
    if (ch === '\0') throw invalid('contains a NUL character.')
    if (BLANK.has(ch)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
      continue
    }
    if (isControl(ch)) {
      throw invalid(`contains the control character ${describeChar(ch)} outside quotes; send one command on one line.`)
    }
    inWord = true
    if (ch === '\\') {
      const next = chars[i + 1]
      if (next === undefined) throw invalid('ends with a lone backslash.')
      if (next === '\0') throw invalid('contains a NUL character.')
      // Backslash-newline is a line continuation and vanishes; any other escaped char is literal.
      if (next !== '\n') word += next
      i += 2
      continue
    }
    if (ch === "'") {
      const end = chars.indexOf("'", i + 1)
      if (end === -1) throw invalid('has an unterminated single quote.')
      const quoted = chars.slice(i + 1, end)
      if (quoted.includes('\0')) throw invalid('contains a NUL character.')
      word += quoted.join('')
      i = end + 1
      continue
    }
    if (ch === '"') {
      i++
      let closed = false
      while (i < chars.length) {
        const c = chars[i]!
        if (c === '\0') throw invalid('contains a NUL character.')
        if (c === '"') {
          closed = true
          i++
          break
        }
        if (c === '\\' && i + 1 < chars.length && DOUBLE_QUOTE_ESCAPABLE.has(chars[i + 1]!)) {
          if (chars[i + 1] !== '\n') word += chars[i + 1]
          i += 2
          continue
        }
        word += c
        i++
      }
      if (!closed) throw invalid('has an unterminated double quote.')
      continue
    }
    word += ch
    i++
  }
  if (inWord) words.push(word)
  return words
}

export type AllowlistEntry = {
  /** The entry as configured, for messages. */
  readonly text: string
  /** Words that must match exactly, in order. */
  readonly words: readonly string[]
  /** True when the entry ends in ` *`: extra arguments may follow the fixed words. */
  readonly extraArgs: boolean
}

/**
 * Parses one configured entry. A trailing ` *` (unquoted, after a blank) opts into extra
 * arguments; an entry without fixed words (`*` alone, or empty) is a configuration error, since
 * it would allow every program on PATH.
 */
export function parseAllowlistEntry(entry: string): AllowlistEntry {
  const trimmed = entry.trim()
  const extraArgs = trimmed === '*' || /[ \t]\*$/.test(trimmed)
  const fixed = extraArgs ? trimmed.slice(0, -1) : trimmed
  let words: string[]
  try {
    words = splitCommandWords(fixed)
  } catch (error) {
    throw new Error(`CMD_ALLOWLIST entry "${entry}" cannot be parsed: ${(error as Error).message}`)
  }
  if (words.length === 0) throw new Error(`CMD_ALLOWLIST entry "${entry}" names no program.`)
  return { text: trimmed, words, extraArgs }
}

export function matchesEntry(words: readonly string[], entry: AllowlistEntry): boolean {
  if (entry.extraArgs ? words.length < entry.words.length : words.length !== entry.words.length) return false
  return entry.words.every((fixed, index) => words[index] === fixed)
}

