import { describe, expect, it } from 'bun:test'
import { chmodSync, symlinkSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { makeRepo, type TestRepo } from '../fixtures/git-repo'
import { applyHunks } from '../../src/git/apply'
import { diffWorkingTree, type FilePatch } from '../../src/git/index'

/** git's own text for one path: `git diff HEAD -- path` (tracked) or a `--no-index` diff (untracked). */
function gitPatch(repo: TestRepo, file: string, untracked = false): string {
  if (!untracked) return repo.git('-c', 'core.quotepath=off', 'diff', 'HEAD', '--', file)
  const r = Bun.spawnSync(['git', '-c', 'core.quotepath=off', 'diff', '--no-index', '--', '/dev/null', file], { cwd: repo.dir })
  return r.stdout.toString()
}

function byFile(patches: FilePatch[], file: string): FilePatch {
  const p = patches.find((x) => x.file === file)
  if (!p) throw new Error(`no patch for ${file}; got ${patches.map((x) => x.file).join(', ')}`)
  return p
}

describe('diffWorkingTree matches git diff byte for byte', () => {
  const shapes: [string, string, string][] = [
    ['first line edit', 'a\nb\nc\nd\ne\n', 'A\nb\nc\nd\ne\n'],
    ['last line edit', 'a\nb\nc\nd\ne\n', 'a\nb\nc\nd\nE\n'],
    ['no trailing newline added', 'a\nb', 'a\nb\n'],
    ['no trailing newline removed', 'a\nb\n', 'a\nb'],
    ['no trailing newline both', 'a\nb', 'a\nc'],
    ['emptied file', 'a\nb\n', ''],
    ['filled empty file', '', 'a\nb\n'],
    ['unicode', 'héllo\n日本\n', 'héllo\n日本語\n'],
    ['crlf', 'a\r\nb\r\nc\r\n', 'a\r\nB\r\nc\r\n'],
    ['funcname context', 'int main() {\n' + 'x\n'.repeat(10) + '}\n', 'int main() {\n' + 'x\n'.repeat(5) + 'y\n' + 'x\n'.repeat(5) + '}\n'],
    ['two separated edits', Array.from({ length: 30 }, (_, i) => `l${i}\n`).join(''), Array.from({ length: 30 }, (_, i) => (i === 2 || i === 25 ? `L${i}\n` : `l${i}\n`)).join('')],
    ['adjacent edits merge', Array.from({ length: 30 }, (_, i) => `l${i}\n`).join(''), Array.from({ length: 30 }, (_, i) => (i === 5 || i === 11 ? `L${i}\n` : `l${i}\n`)).join('')],
    ['edits 7 apart stay apart', Array.from({ length: 30 }, (_, i) => `l${i}\n`).join(''), Array.from({ length: 30 }, (_, i) => (i === 5 || i === 13 ? `L${i}\n` : `l${i}\n`)).join('')],
    ['indent heuristic slides a block', 'f() {\n  a\n}\n\ng() {\n  b\n}\n', 'f() {\n  a\n}\n\nh() {\n  c\n}\n\ng() {\n  b\n}\n'],
  ]
  for (const [name, before, after] of shapes) {
    it(`renders ${name} like git`, async () => {
      await using repo = await makeRepo({ 'f.txt': before })
      repo.write('f.txt', after)
      const patches = await diffWorkingTree(repo.dir)
      expect(patches.length).toBe(1)
      expect(patches[0]!.patch).toBe(gitPatch(repo, 'f.txt'))
      expect(patches[0]!.content).toBe(patches[0]!.patch)
    })
  }

  it('renders untracked files like git diff --no-index /dev/null', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    repo.write('new.txt', 'one\ntwo')
    repo.write('empty.txt', '')
    const patches = await diffWorkingTree(repo.dir)
    expect(byFile(patches, 'new.txt').patch).toBe(gitPatch(repo, 'new.txt', true))
    expect(byFile(patches, 'new.txt').type).toBe('added')
    // git add -N shows an empty new file as header lines only
    repo.git('add', '-N', 'empty.txt')
    expect(byFile(patches, 'empty.txt').patch).toBe(gitPatch(repo, 'empty.txt'))
  })

  it('renders a deleted file, a binary change and a mode change like git', async () => {
    await using repo = await makeRepo({ 'gone.txt': 'x\ny\n', 'bin.dat': 'a\0b', 'run.sh': 'echo\n', 'empty': '' })
    unlinkSync(join(repo.dir, 'gone.txt'))
    unlinkSync(join(repo.dir, 'empty'))
    repo.write('bin.dat', 'a\0c')
    chmodSync(join(repo.dir, 'run.sh'), 0o755)
    const patches = await diffWorkingTree(repo.dir)
    for (const f of ['gone.txt', 'bin.dat', 'run.sh', 'empty']) expect(byFile(patches, f).patch).toBe(gitPatch(repo, f))
    expect(byFile(patches, 'bin.dat').binary).toBe(true)
    expect(byFile(patches, 'bin.dat').hunks).toEqual([])
    expect(byFile(patches, 'run.sh')).toMatchObject({ type: 'modified', oldMode: '100644', newMode: '100755' })
  })

  it('reports an exact-content rename as one renamed patch, as git does', async () => {
    await using repo = await makeRepo({ 'old/name.txt': 'same content\n' })
    repo.git('mv', 'old/name.txt', 'new-name.txt')
    const patches = await diffWorkingTree(repo.dir)
    expect(patches).toHaveLength(1)
    expect(patches[0]).toMatchObject({ type: 'renamed', file: 'new-name.txt', oldFile: 'old/name.txt' })
    expect(patches[0]!.patch).toBe(repo.git('-c', 'core.quotepath=off', 'diff', 'HEAD', '-M'))
  })

  it('diffs a symlink change like git', async () => {
    await using repo = await makeRepo({ 'target.txt': 't\n' })
    symlinkSync('target.txt', join(repo.dir, 'link'))
    repo.git('add', 'link')
    repo.git('commit', '-qm', 'link')
    unlinkSync(join(repo.dir, 'link'))
    symlinkSync('elsewhere', join(repo.dir, 'link'))
    const patches = await diffWorkingTree(repo.dir)
    expect(byFile(patches, 'link').patch).toBe(gitPatch(repo, 'link'))
  })

  it('diffs against another branch, a tag and a sha, and refuses an unknown base', async () => {
    await using repo = await makeRepo({ 'a.txt': 'v1\n' })
    repo.git('tag', '-a', 'v1', '-m', 'v1')
    repo.git('branch', 'old')
    repo.write('a.txt', 'v2\n')
    repo.git('commit', '-qam', 'v2')
    repo.write('a.txt', 'v3\n')
    const sha = repo.git('rev-parse', 'old').trim()
    for (const base of ['old', 'v1', sha, sha.slice(0, 10)]) {
      const patches = await diffWorkingTree(repo.dir, { base })
      expect(patches[0]!.patch).toBe(repo.git('diff', base))
    }
    await expect(diffWorkingTree(repo.dir, { base: 'no-such-branch' })).rejects.toMatchObject({ status: 404 })
  })
})

/** A seeded PRNG (mulberry32) so every failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const VOCAB = ['{', '}', '', '  return x;', 'foo();', 'bar', '\tif (a) {', '\t}', 'int main()', '// note', 'x = 1;', '    y', '', 'def f():', '    pass', 'ünï']

function randomEdit(rnd: () => number): { before: string; after: string } {
  const pick = () => VOCAB[Math.floor(rnd() * VOCAB.length)]!
  const a = Array.from({ length: Math.floor(rnd() * 60) }, pick)
  const b = a.slice()
  for (let e = Math.floor(rnd() * 6) + 1; e > 0; e--) {
    const op = rnd()
    const pos = Math.floor(rnd() * (b.length + 1))
    if (op < 0.35) b.splice(pos, 0, ...Array.from({ length: Math.floor(rnd() * 5) + 1 }, pick))
    else if (op < 0.7) b.splice(pos, Math.floor(rnd() * 5) + 1)
    else b.splice(pos, 1, pick())
  }
  const text = (lines: string[]) => lines.join('\n') + (lines.length && rnd() < 0.8 ? '\n' : '')
  return { before: text(a), after: text(b) }
}

describe('randomised edit scripts', () => {
  it('gives git hunk headers and lines for 200 seeded random edits, and every diff applies back', async () => {
    const rnd = prng(20240601)
    const cases = Array.from({ length: 200 }, () => randomEdit(rnd))
    const files: Record<string, string> = {}
    cases.forEach((c, i) => (files[`f${String(i).padStart(3, '0')}.txt`] = c.before))
    await using repo = await makeRepo(files)
    cases.forEach((c, i) => repo.write(`f${String(i).padStart(3, '0')}.txt`, c.after))
    const patches = await diffWorkingTree(repo.dir)
    const gitText = repo.git('-c', 'core.quotepath=off', 'diff', 'HEAD')
    const gitByFile = new Map<string, string>()
    for (const chunk of gitText.split(/^(?=diff --git )/m)) {
      const m = /^diff --git a\/(\S+) /.exec(chunk)
      if (m) gitByFile.set(m[1]!, chunk)
    }
    expect(patches.map((p) => p.file)).toEqual([...gitByFile.keys()])
    for (const p of patches) {
      expect(p.patch).toBe(gitByFile.get(p.file)!)
      const i = Number(p.file.slice(1, 4))
      const rebuilt = applyHunks(p.file, Buffer.from(cases[i]!.before), p.hunks, p.hunks.map((_, k) => k))
      expect(Buffer.from(rebuilt).toString('utf8')).toBe(cases[i]!.after)
    }
  })
})
