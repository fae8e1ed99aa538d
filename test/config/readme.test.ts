import { describe, expect, it } from 'bun:test'
import { OPTIONS, optionsMarkdown, usage } from '../../src/config'

const readme = await Bun.file(new URL('../../README.md', import.meta.url).pathname).text()

describe('the options table', () => {
  it('is the README configuration table, row for row', () => {
    const block = /<!-- options:start[^>]*-->\n([\s\S]*?)\n<!-- options:end -->/.exec(readme)
    expect(block).not.toBeNull()
    // On a mismatch: `bun run scripts/readme-options.ts` rewrites the table from the options.
    expect(block![1]).toBe(optionsMarkdown())
  })

  it('gives every option a variable, a flag and a help line in --help', () => {
    const help = usage('test')
    for (const o of OPTIONS) {
      expect(help).toContain(`--${o.flag}`)
      expect(help).toContain(o.env)
    }
    expect(new Set(OPTIONS.map((o) => o.env)).size).toBe(OPTIONS.length)
    expect(new Set(OPTIONS.map((o) => o.key)).size).toBe(OPTIONS.length)
  })
})

describe('the README', () => {
  it('states the instruction limit and why the diff after apply is empty', () => {
    expect(readme).toContain('32768 characters')
    expect(readme).toContain('{"patches":[]}')
    for (const flag of ['--pty-max-per-session', '--pty-max-total']) expect(readme).toContain(`| ${flag} |`)
  })
})
