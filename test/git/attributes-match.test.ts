/**
 * The attributes reader and the clean/smudge conversions on their own, against git's plumbing:
 * `git check-attr` for which attributes a path gets, `git hash-object --path` for the clean form
 * git stores, `git cat-file --filters` for the smudged form it checks out.
 */
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { makeRepo, gitEnv, type TestRepo } from '../fixtures/git-repo'
import { Attributes } from '../../src/git/attributes'
import { converterFor } from '../../src/git/convert'
import { readIndex } from '../../src/git/dirc'
import { openRepo } from '../../src/git/odb'

const NAMES = ['text', 'eol', 'crlf', 'diff', 'merge', 'foo'] as const

/** git check-attr's words for a value: set, unset, unspecified or the value itself. */
function word(v: true | false | null | string | undefined): string {
  if (v === true) return 'set'
  if (v === false) return 'unset'
  if (v === null || v === undefined) return 'unspecified'
  return v
}

function gitWithInput(repo: TestRepo, args: string[], input: Uint8Array): Buffer {
  const r = Bun.spawnSync(['git', ...args], { cwd: repo.dir, env: gitEnv(join(repo.dir, '..')), stdin: input, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`)
  return r.stdout
}

describe('attributes are resolved as git check-attr resolves them', () => {
  it('agrees on every attribute of every path', async () => {
    await using repo = await makeRepo({
      '.gitattributes': [
        '# comment',
        '[attr]mine text eol=crlf foo=bar',
        '* text=auto',
        '*.png binary',
        '*.txt eol=lf',
        '/anchored.txt -text',
        'docs/**/*.md diff=markdown',
        '"quoted name.txt" foo',
        '!negated.txt foo',
        'bad-line te$t',
        '**/gen/** -diff',
        '*.sh mine',
        '*.sh !eol',
        'dir/ foo',
        '*.CR\ttext\r',
      ].join('\n') + '\n',
      'docs/.gitattributes': '*.txt -text\n[attr]ignored foo\n*.png text\nsub/*.md foo=sub\n',
      'docs/sub/.gitattributes': 'a.md !text\n',
      'x': '',
    })
    repo.write('.git/info/attributes', '*.md merge=union\nlast.txt binary\nlast.txt text\n')
    const paths = [
      'a.txt', 'anchored.txt', 'sub/anchored.txt', 'logo.png', 'docs/logo.png', 'docs/a.txt', 'docs/x/y.md', 'docs/sub/a.md',
      'docs/sub/b.md', 'quoted name.txt', 'negated.txt', 'src/gen/x.c', 'gen/y', 'run.sh', 'dir', 'dir/f', 'w.CR', 'last.txt', 'Makefile',
    ]
    const expected = new Map<string, string>()
    for (const line of repo.git('check-attr', ...NAMES, '--', ...paths).split('\n').filter(Boolean)) {
      const m = /^(.*): (\S+): (.*)$/.exec(line)!
      expected.set(`${m[1]}|${m[2]}`, m[3]!)
    }
    const r = openRepo(repo.dir)
    const attrs = new Attributes(r, readIndex(r.gitdir))
    const got = new Map<string, string>()
    for (const p of paths) {
      const values = attrs.lookup(p, NAMES)
      for (const n of NAMES) got.set(`${p}|${n}`, word(values.get(n)))
    }
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected))
  })
})

describe('clean and smudge produce what git stores and checks out', () => {
  const contents: [string, Uint8Array][] = [
    ['crlf', Buffer.from('a\r\nb\r\n')],
    ['lf', Buffer.from('a\nb\n')],
    ['mixed', Buffer.from('a\r\nb\nc\r\n')],
    ['lone cr', Buffer.from('a\rb\r\nc\n')],
    ['nul with crlf', Buffer.from('a\r\n\0b\r\n', 'latin1')],
    ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0x0d, 0x0a])],
    ['cr at end', Buffer.from('a\r\nb\r')],
    ['ctrl-z end', Buffer.from('a\r\nb\r\n\x1a')],
    ['empty', Buffer.alloc(0)],
  ]
  const setups: [string, string, Record<string, string>][] = [
    ['text', '* text\n', {}],
    ['text eol=lf', '* text eol=lf\n', {}],
    ['text eol=crlf', '* text eol=crlf\n', {}],
    ['text=auto', '* text=auto\n', {}],
    ['text=auto eol=crlf', '* text=auto eol=crlf\n', {}],
    ['-text', '* -text\n', { 'core.autocrlf': 'true' }],
    ['binary', '* binary\n', {}],
    ['crlf=input (legacy)', '* crlf=input\n', {}],
    ['autocrlf=true', '', { 'core.autocrlf': 'true' }],
    ['autocrlf=input', '', { 'core.autocrlf': 'input' }],
    ['text with core.eol=crlf', '* text\n', { 'core.eol': 'crlf' }],
    ['nothing', '', {}],
  ]
  for (const [name, attributes, config] of setups) {
    it(`cleans and smudges like git under ${name}`, async () => {
      await using repo = await makeRepo()
      for (const [k, v] of Object.entries(config)) repo.git('config', k, v)
      repo.write('.gitattributes', attributes)
      for (const [label, bytes] of contents) repo.write(`f-${label.replace(/ /g, '_')}`, bytes)
      repo.git('add', '-A')
      repo.git('commit', '-q', '-m', 'files')
      const r = openRepo(repo.dir)
      const convert = await converterFor(r, readIndex(r.gitdir))
      for (const [label, bytes] of contents) {
        const path = `new-${label.replace(/ /g, '_')}`
        const gitClean = gitWithInput(repo, ['hash-object', '--stdin', `--path=${path}`], bytes).toString().trim()
        const ours = new Bun.CryptoHasher('sha1').update(`blob ${convert.clean(path, bytes).length}\0`).update(convert.clean(path, bytes)).digest('hex')
        expect({ label, oid: ours }).toEqual({ label, oid: gitClean })
        const stored = `f-${label.replace(/ /g, '_')}`
        const blob = gitWithInput(repo, ['cat-file', 'blob', `HEAD:${stored}`], new Uint8Array(0))
        const smudged = gitWithInput(repo, ['cat-file', '--filters', `HEAD:${stored}`], new Uint8Array(0))
        expect({ label, smudged: Buffer.from(convert.smudge(stored, blob)).toString('latin1') }).toEqual({ label, smudged: smudged.toString('latin1') })
      }
    })
  }

  it('keeps CRLFs of a text=auto file whose indexed blob has them (git 2.39), and converts once it is renormalised', async () => {
    await using repo = await makeRepo({ 'f.txt': 'a\r\nb\r\n' })
    repo.write('.gitattributes', '* text=auto\n')
    const bytes = Buffer.from('a\r\nb\r\nc\r\n')
    const r = openRepo(repo.dir)
    const before = await converterFor(r, readIndex(r.gitdir))
    expect(Buffer.from(before.clean('f.txt', bytes)).toString()).toBe('a\r\nb\r\nc\r\n')
    expect(Buffer.from(before.clean('other.txt', bytes)).toString()).toBe('a\nb\nc\n')
    // git add reads the index for this (hash-object does not, so it cannot show it)
    repo.write('f.txt', bytes)
    repo.git('add', 'f.txt')
    expect(repo.git('cat-file', 'blob', ':f.txt')).toBe('a\r\nb\r\nc\r\n')
    repo.git('add', '--renormalize', '.')
    expect(repo.git('cat-file', 'blob', ':f.txt')).toBe('a\nb\nc\n')
    const after = await converterFor(r, readIndex(r.gitdir))
    expect(Buffer.from(after.clean('f.txt', bytes)).toString()).toBe('a\nb\nc\n')
  })
})
