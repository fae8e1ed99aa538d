import { describe, expect, it } from 'bun:test'
import { CommandSyntaxError, matchesEntry, parseAllowlistEntry, splitCommandWords } from '../../src/policy/commands'

/** The runner's rule: the words equal an entry's words exactly, or extend a ` *` entry. */
function matchAllowlist(words: readonly string[], allowlist: readonly string[]): boolean {
  return words.length > 0 && allowlist.some((entry) => matchesEntry(words, parseAllowlistEntry(entry)))
}

describe('splitCommandWords', () => {
  const table: [string, string[]][] = [
    ['npm test', ['npm', 'test']],
    ['  npm \t test  ', ['npm', 'test']],
    ['', []],
    ['   ', []],
    ["echo 'a b'", ['echo', 'a b']],
    ['echo "a b"', ['echo', 'a b']],
    ["echo ''", ['echo', '']],
    ['echo ""', ['echo', '']],
    ["echo a''b", ['echo', 'ab']],
    ['echo "a"\'b\'c', ['echo', 'abc']],
    ["echo 'a\\b'", ['echo', 'a\\b']],
    ["echo '\"'", ['echo', '"']],
    ['echo "it\'s"', ['echo', "it's"]],
    ['echo "a\\"b"', ['echo', 'a"b']],
    ['echo "a\\\\b"', ['echo', 'a\\b']],
    ['echo "\\$HOME"', ['echo', '$HOME']],
    ['echo "\\`id\\`"', ['echo', '`id`']],
    ['echo "a\\nb"', ['echo', 'a\\nb']],
    ['echo "a\\\nb"', ['echo', 'ab']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo \\"x', ['echo', '"x']],
    ['echo \\n', ['echo', 'n']],
    ['echo a\\\nb', ['echo', 'ab']],
    ['echo "line1\nline2"', ['echo', 'line1\nline2']],
    ['echo $HOME', ['echo', '$HOME']],
    ['echo $(id) `id`', ['echo', '$(id)', '`id`']],
    ['echo a;b && c | d > e < f 2>&1 *', ['echo', 'a;b', '&&', 'c', '|', 'd', '>', 'e', '<', 'f', '2>&1', '*']],
    ['echo ~ {a,b} [x]', ['echo', '~', '{a,b}', '[x]']],
    ['echo héllo 日本 🎉', ['echo', 'héllo', '日本', '🎉']],
    ['echo \\🎉', ['echo', '🎉']],
    ["echo '🎉 x'", ['echo', '🎉 x']],
    ['echo\u00a0x', ['echo\u00a0x']],
  ]
  for (const [input, words] of table) {
    it(`splits ${JSON.stringify(input)}`, () => {
      expect(splitCommandWords(input)).toEqual(words)
    })
  }

  const refused: [string, RegExp][] = [
    ["echo 'abc", /unterminated single quote/],
    ['echo "abc', /unterminated double quote/],
    ['echo "abc\\"', /unterminated double quote/],
    ['echo abc\\', /lone backslash/],
    ['npm test\nid', /control character U\+000A/],
    ['npm test\rid', /control character U\+000D/],
    ['npm test\u001b[31m', /control character U\+001B/],
    ['npm test\u007f', /control character U\+007F/],
    ['npm\0test', /NUL/],
    ["npm 'te\0st'", /NUL/],
    ['npm "te\0st"', /NUL/],
  ]
  for (const [input, message] of refused) {
    it(`refuses ${JSON.stringify(input)} with a syntax error each caller words for itself`, () => {
      let caught: unknown
      try {
        splitCommandWords(input)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(CommandSyntaxError)
      expect(caught).not.toHaveProperty('status')
      expect((caught as Error).message).toMatch(message)
    })
  }
})

describe('matchAllowlist', () => {
  const defaults = ['npm test', 'go test', 'npm run build', 'pytest']

  const allowed: [string, readonly string[]][] = [
    ['npm test', defaults],
    ['  npm   test ', defaults],
    ["'npm' \"test\"", defaults],
    ['npm run build', defaults],
    ['pytest', defaults],
    ['pytest -k foo', ['pytest *']],
    ['pytest', ['pytest *']],
    ['echo hello ; touch pwned', ['echo hello *']],
    ['go test ./...', ['go test *']],
  ]
  for (const [cmd, list] of allowed) {
    it(`allows ${JSON.stringify(cmd)} under [${list.join(', ')}]`, () => {
      expect(matchAllowlist(splitCommandWords(cmd), list)).toBe(true)
    })
  }

  // The refusals our issue lists; none of them may reach a process.
  const refused: [string, readonly string[]][] = [
    ['npm test; id', defaults],
    ['npm test --script-shell=/tmp/x', defaults],
    ['npm test --prefix /x', defaults],
    ['./npm test', defaults],
    ['NPM test', defaults],
    ['npm TEST', defaults],
    ['npm test\\nid', defaults],
    ['rm -rf /', defaults],
    ['npm', defaults],
    ['npm test ""', defaults],
    ['pytest -k foo', defaults],
    ['go test ./...', defaults],
    ['echo hello; touch pwned', ['echo hello *']],
    ['echo', ['echo hello *']],
    ['echo hellox', ['echo hello *']],
    ['anything', []],
  ]
  for (const [cmd, list] of refused) {
    it(`refuses ${JSON.stringify(cmd)} under [${list.join(', ')}]`, () => {
      expect(matchAllowlist(splitCommandWords(cmd), list)).toBe(false)
    })
  }

  it('refuses an empty command even under a wildcard entry', () => {
    expect(matchAllowlist([], ['echo *'])).toBe(false)
  })

  it('treats a quoted star in an entry as a literal word, not a wildcard', () => {
    expect(matchAllowlist(['echo', '*'], ["echo '*'"])).toBe(true)
    expect(matchAllowlist(['echo', 'x'], ["echo '*'"])).toBe(false)
    expect(matchAllowlist(['echo', 'x'], ['echo \\*'])).toBe(false)
  })
})

describe('parseAllowlistEntry', () => {
  it('reads a trailing " *" as permission for extra arguments', () => {
    expect(parseAllowlistEntry('pytest *')).toEqual({ text: 'pytest *', words: ['pytest'], extraArgs: true })
    expect(parseAllowlistEntry(' npm run build ')).toEqual({ text: 'npm run build', words: ['npm', 'run', 'build'], extraArgs: false })
  })

  it('refuses an entry that would allow every program', () => {
    expect(() => parseAllowlistEntry('*')).toThrow(/names no program/)
    expect(() => parseAllowlistEntry('  ')).toThrow(/names no program/)
  })

  it('refuses an entry that cannot be split', () => {
    expect(() => parseAllowlistEntry("npm 'test")).toThrow(/cannot be parsed/)
  })
})
