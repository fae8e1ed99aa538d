import { describe, expect, it } from 'bun:test'
import { isIgnored, parseIgnore } from '../../src/git/ignore'
import { makeRepo } from '../fixtures/git-repo'
import { diffWorkingTree } from '../../src/git/index'

describe('gitignore matching', () => {
  const root = parseIgnore(['# comment', '*.log', '!keep.log', '/anchored.txt', 'build/', 'docs/**/*.tmp', '**/cache', 'a?c', '[xy].txt', '\\#hash'].join('\n'), '')
  const cases: [string, boolean, boolean][] = [
    ['x.log', false, true],
    ['deep/x.log', false, true],
    ['keep.log', false, false],
    ['anchored.txt', false, true],
    ['sub/anchored.txt', false, false],
    ['build', true, true],
    ['build', false, false],
    ['docs/a/b/c.tmp', false, true],
    ['docs/c.tmp', false, true],
    ['other/c.tmp', false, false],
    ['x/y/cache', true, true],
    ['abc', false, true],
    ['abbc', false, false],
    ['x.txt', false, true],
    ['z.txt', false, false],
    ['#hash', false, true],
  ]
  for (const [path, isDir, expected] of cases) {
    it(`says ${path}${isDir ? '/' : ''} is ${expected ? '' : 'not '}ignored`, () => {
      expect(isIgnored([root], path, isDir)).toBe(expected)
    })
  }

  it('lets a nested .gitignore override its parent and agrees with git on untracked files', async () => {
    await using repo = await makeRepo({ '.gitignore': '*.gen\n/top-only\n', 'sub/.gitignore': '!wanted.gen\nlocal/\n' })
    repo.write('.git/info/exclude', 'excluded.txt\n')
    for (const f of ['a.gen', 'sub/wanted.gen', 'sub/other.gen', 'top-only', 'sub/top-only', 'sub/local/x', 'excluded.txt', 'sub/excluded.txt', 'ok.txt']) repo.write(f, 'x\n')
    const ours = (await diffWorkingTree(repo.dir)).map((p) => p.file)
    const git = repo.git('ls-files', '--others', '--exclude-standard').trim().split('\n')
    expect(ours).toEqual(git)
  })
})
