/**
 * End-of-line conversion from .gitattributes and core.autocrlf, checked against the git CLI on
 * real repositories: status, diff (patch text byte for byte), commit, workspaces and apply.
 */
import { describe, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeRepo, runGit, type TestRepo } from '../fixtures/git-repo'
import { applySelection, commitFiles, createWorkspace, diffWorkingTree, diffWorkspace, readStatus } from '../../src/git/index'

/** A PNG header and body holding CRLF pairs and NULs, as in chalk/chalk's screenshots. */
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x0d, 0x0a, 0, 1, 2, 3, 0x0d, 0x0a, 0xff])

/** Commits `files` (bytes as given) with the git CLI. */
async function repoWith(files: Record<string, string | Uint8Array>, config: Record<string, string> = {}): Promise<TestRepo> {
  const repo = await makeRepo()
  for (const [k, v] of Object.entries(config)) repo.git('config', k, v)
  for (const [path, content] of Object.entries(files)) repo.write(path, content)
  repo.git('add', '-A')
  repo.git('commit', '-q', '-m', 'initial')
  return repo
}

/** Makes the index's stat data stale for `paths`, so both git and we must read the files. */
function touch(repo: TestRepo, ...paths: string[]): void {
  const when = new Date('2021-06-01T00:00:00Z')
  for (const p of paths) utimesSync(join(repo.dir, p), when, when)
}

/** git status as our {file, status} list: untracked files one by one and all in path order, as ours lists them. */
function gitStatus(repo: TestRepo): { file: string; status: string }[] {
  return repo
    .git('-c', 'core.quotepath=off', 'status', '--porcelain', '-uall')
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ status: l.slice(0, 2), file: l.slice(3) }))
    .sort((a, b) => (a.file < b.file ? -1 : 1))
}

/** Ours (computed first: git add -N changes the index) against `git add -N . && git diff HEAD`. */
async function expectDiffLikeGit(repo: TestRepo): Promise<string[]> {
  const ours = await diffWorkingTree(repo.dir)
  repo.git('add', '-N', '.')
  expect(ours.map((p) => p.patch).join('')).toBe(repo.git('-c', 'core.quotepath=off', 'diff', 'HEAD'))
  return ours.map((p) => p.file)
}

describe('end-of-line conversion matches git', () => {
  it('finds CRLF files (a PNG too) modified under `* text eol=lf`, as in chalk/chalk af4983c', async () => {
    await using repo = await repoWith({ 'logo.png': PNG, 'readme.md': 'one\r\ntwo\r\n', 'lf.txt': 'a\nb\n' })
    repo.write('.gitattributes', '* text eol=lf\n')
    repo.git('add', '.gitattributes')
    repo.git('commit', '-q', '-m', 'attributes')
    touch(repo, 'logo.png', 'readme.md', 'lf.txt')
    const status = await readStatus(repo.dir)
    expect(status.files).toEqual([
      { file: 'logo.png', status: ' M' },
      { file: 'readme.md', status: ' M' },
    ])
    expect(status.files).toEqual(gitStatus(repo))
    expect(await expectDiffLikeGit(repo)).toEqual(['logo.png', 'readme.md'])
  })

  it('normalises CRLF, mixed and forced-text binary content on the way in, and leaves -text and binary alone', async () => {
    await using repo = await repoWith({
      '.gitattributes': '* text eol=lf\n*.png binary\nraw/** -text\n',
      'a.txt': 'one\ntwo\nthree\n',
      'mixed.txt': 'x\ny\nz\n',
      'b.png': 'old\n',
      'raw/r.txt': 'r\n',
      'forced.bin': 'old\n',
    })
    repo.write('a.txt', 'one\r\nTWO\r\nthree\r\n')
    repo.write('mixed.txt', 'x\r\ny\nlone\rcr\r\nz\n')
    repo.write('b.png', Buffer.concat([Buffer.from('new\r\n'), PNG]))
    repo.write('raw/r.txt', 'r\r\n')
    repo.write('forced.bin', Buffer.from([0x41, 0x0d, 0x0a, 0, 0x42, 0x0d, 0x0a]))
    repo.write('new.txt', 'fresh\r\nfile\r\n')
    touch(repo, 'a.txt', 'mixed.txt', 'b.png', 'raw/r.txt', 'forced.bin')
    expect((await readStatus(repo.dir)).files).toEqual(gitStatus(repo))
    const files = await expectDiffLikeGit(repo)
    expect(files).toEqual(['a.txt', 'b.png', 'forced.bin', 'mixed.txt', 'new.txt', 'raw/r.txt'])
  })

  it('shows a file only re-saved with CRLFs as git does: M in status (its size changed), no diff', async () => {
    for (const [attrs, config] of [
      ['* text eol=lf\n', {}],
      ['* text=auto\n', {}],
      ['', { 'core.autocrlf': 'true' }],
      ['', { 'core.autocrlf': 'input' }],
    ] as const) {
      await using repo = await repoWith({ ...(attrs ? { '.gitattributes': attrs } : {}), 'f.txt': 'a\nb\n' }, config)
      repo.write('f.txt', 'a\r\nb\r\n')
      touch(repo, 'f.txt')
      const status = (await readStatus(repo.dir)).files
      expect({ attrs, config, status }).toEqual({ attrs, config, status: [{ file: 'f.txt', status: ' M' }] })
      expect(gitStatus(repo)).toEqual(status)
      expect({ attrs, config, diff: await diffWorkingTree(repo.dir) }).toEqual({ attrs, config, diff: [] })
      expect(repo.git('diff', 'HEAD')).toBe('')
    }
  })

  it('follows text=auto: no conversion for binary content, nor for a file committed with CRLFs (git 2.39)', async () => {
    await using repo = await repoWith({ 'crlf.txt': 'keep\r\nthese\r\n', 'lf.txt': 'x\ny\n', 'nul.dat': 'old\n' }, { 'core.autocrlf': 'false' })
    repo.write('.gitattributes', '* text=auto\n')
    repo.git('add', '.gitattributes')
    repo.git('commit', '-q', '-m', 'attributes')
    repo.write('crlf.txt', 'keep\r\nthese\r\nand more\r\n')
    repo.write('lf.txt', 'x\r\nY\r\n')
    repo.write('nul.dat', Buffer.from('a\r\n\0b\r\n', 'latin1'))
    repo.write('lonecr.txt', 'a\rb\r\nc\n')
    touch(repo, 'crlf.txt', 'lf.txt', 'nul.dat')
    expect((await readStatus(repo.dir)).files).toEqual(gitStatus(repo))
    expect(await expectDiffLikeGit(repo)).toEqual(['crlf.txt', 'lf.txt', 'lonecr.txt', 'nul.dat'])
  })

  it('lets a subdirectory .gitattributes override the root, and -text override core.autocrlf', async () => {
    await using repo = await repoWith(
      {
        '.gitattributes': '* text eol=lf\n',
        'docs/.gitattributes': '*.bat -text\n/keep.txt -text\n',
        'docs/run.bat': 'echo\n',
        'docs/keep.txt': 'k\n',
        'docs/deep/keep.txt': 'k\n',
        'top.bat': 'echo\n',
      },
      { 'core.autocrlf': 'input' },
    )
    for (const p of ['docs/run.bat', 'docs/keep.txt', 'docs/deep/keep.txt', 'top.bat']) repo.write(p, p.endsWith('.bat') ? 'echo\r\n' : 'k\r\n')
    touch(repo, 'docs/run.bat', 'docs/keep.txt', 'docs/deep/keep.txt', 'top.bat')
    expect((await readStatus(repo.dir)).files).toEqual(gitStatus(repo))
    expect(await expectDiffLikeGit(repo)).toEqual(['docs/keep.txt', 'docs/run.bat'])
  })

  it('reads .git/info/attributes above the tree, and a `-diff` path diffs as binary', async () => {
    await using repo = await repoWith({ '.gitattributes': '*.txt -text\n*.lock -diff\n', 'a.txt': 'a\n', 'yarn.lock': 'v1\n' })
    repo.write('.git/info/attributes', '*.txt text\n')
    repo.write('a.txt', 'a\r\nb\r\n')
    repo.write('yarn.lock', 'v2\n')
    expect((await readStatus(repo.dir)).files).toEqual(gitStatus(repo))
    const ours = await diffWorkingTree(repo.dir)
    expect(ours.find((p) => p.file === 'yarn.lock')!.binary).toBe(true)
    expect(await expectDiffLikeGit(repo)).toEqual(['a.txt', 'yarn.lock'])
  })
})

describe('commits, workspaces and apply write what git would', () => {
  it('commits the clean form of a CRLF file and leaves the tree clean for git', async () => {
    await using repo = await repoWith({ '.gitattributes': '* text eol=lf\n', 'f.txt': 'a\n' })
    repo.write('f.txt', 'a\r\nb\r\n')
    repo.write('logo.png', PNG)
    const expected = repo.git('hash-object', 'f.txt', 'logo.png').split('\n').filter(Boolean)
    await commitFiles(repo.dir, ['f.txt', 'logo.png'], { message: 'crlf' })
    expect(repo.git('rev-parse', 'HEAD:f.txt', 'HEAD:logo.png').split('\n').filter(Boolean)).toEqual(expected)
    expect(repo.git('cat-file', 'blob', 'HEAD:f.txt')).toBe('a\nb\n')
    expect(repo.git('status', '--porcelain')).toBe('')
    expect((await readStatus(repo.dir)).files).toEqual([])
  })

  it('gives a workspace the clean blobs as its baseline and the same conversion for its diffs', async () => {
    await using repo = await repoWith({ '.gitattributes': '*.txt text\n', 'f.txt': 'a\nb\n', 'g.txt': 'g\n' }, { 'core.autocrlf': 'true' })
    repo.write('.git/info/attributes', '*.md -text\n')
    repo.write('f.txt', 'a\r\nB\r\n')
    repo.write('notes.md', 'n\r\n')
    const root = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(root, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      expect(runGit(ws, root, ['rev-parse', `${baseline}:f.txt`]).trim()).toBe(repo.git('hash-object', 'f.txt').trim())
      expect(runGit(ws, root, ['rev-parse', `${baseline}:notes.md`]).trim()).toBe(repo.git('hash-object', 'notes.md').trim())
      expect(await diffWorkspace(ws, baseline)).toEqual([])
      expect(runGit(ws, root, ['status', '--porcelain'])).toBe('')
      runGit(ws, root, ['config', 'user.name', 'x'])
      Bun.spawnSync(['sh', '-c', 'printf "a\\r\\nB\\r\\nc\\r\\n" > f.txt'], { cwd: ws })
      const patches = await diffWorkspace(ws, baseline)
      expect(patches.map((p) => p.patch).join('')).toBe(runGit(ws, root, ['diff', baseline]))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('applies a workspace patch to a CRLF (eol=crlf) file and writes it back with CRLFs, as git apply does', async () => {
    await using repo = await repoWith({ '.gitattributes': '*.txt text eol=crlf\n', 'f.txt': 'one\ntwo\nthree\n' })
    // checked out by git: CRLF in the working tree, LF in the blob
    repo.git('rm', '-q', '--cached', 'f.txt')
    repo.git('checkout', '--', '.')
    repo.git('reset', '-q', '--hard')
    expect(readFileSync(join(repo.dir, 'f.txt'), 'latin1')).toBe('one\r\ntwo\r\nthree\r\n')
    const root = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(root, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      Bun.spawnSync(['sh', '-c', 'printf "one\\r\\nTWO\\r\\nthree\\r\\n" > f.txt'], { cwd: ws })
      const patches = await diffWorkspace(ws, baseline)
      expect(patches.map((p) => p.patch).join('')).toBe(runGit(ws, root, ['diff', baseline]))
      await applySelection(repo.dir, patches)
      expect(readFileSync(join(repo.dir, 'f.txt'), 'latin1')).toBe('one\r\nTWO\r\nthree\r\n')
      const after = await diffWorkingTree(repo.dir)
      expect(after.map((p) => p.patch).join('')).toBe(repo.git('diff', 'HEAD'))
      expect(after[0]!.hunks).toEqual(patches[0]!.hunks)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('checks files out smudged when a commit switches branches, as git checkout writes them', async () => {
    await using repo = await repoWith({ 'f.txt': 'main\n' })
    repo.git('checkout', '-q', '-b', 'other')
    // the branch brings its own attributes, which apply to themselves too
    repo.write('.gitattributes', '* text eol=crlf\n')
    repo.write('f.txt', 'other\nbranch\n')
    repo.write('g.txt', 'new\n')
    repo.git('add', '-A')
    repo.git('commit', '-q', '-m', 'other')
    repo.git('checkout', '-q', 'main')
    repo.git('checkout', '-q', 'other')
    const read = () => Object.fromEntries(['.gitattributes', 'f.txt', 'g.txt'].map((p) => [p, readFileSync(join(repo.dir, p), 'latin1')]))
    const expected = read()
    expect(expected).toEqual({ '.gitattributes': '* text eol=crlf\r\n', 'f.txt': 'other\r\nbranch\r\n', 'g.txt': 'new\r\n' })
    repo.git('checkout', '-q', 'main')
    // the switch happens first; f.txt then matches the branch, so there is nothing to commit
    await expect(commitFiles(repo.dir, ['f.txt'], { message: 'm', branch: 'other' })).rejects.toMatchObject({ status: 400 })
    expect(repo.git('symbolic-ref', '--short', 'HEAD').trim()).toBe('other')
    expect(read()).toEqual(expected)
    expect(repo.git('status', '--porcelain')).toBe('')
    expect((await readStatus(repo.dir)).files).toEqual([])
  })

  it('applies a binary change of a forced-text PNG from a workspace, reading it back in its clean form', async () => {
    await using repo = await repoWith({ '.gitattributes': '* text eol=lf\n', 'logo.png': PNG })
    const root = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(root, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      const next = Buffer.concat([PNG, Buffer.from([0x0d, 0x0a, 7])])
      writeFileSync(join(ws, 'logo.png'), next)
      const patches = await diffWorkspace(ws, baseline)
      expect(patches.map((p) => [p.file, p.binary])).toEqual([['logo.png', true]])
      expect(patches[0]!.patch).toBe(runGit(ws, root, ['diff', baseline]))
      await applySelection(repo.dir, patches)
      // git apply writes the blob (CRLFs gone: the attributes made it text) smudged, a no-op for eol=lf
      expect(repo.git('hash-object', 'logo.png').trim()).toBe(runGit(ws, root, ['hash-object', 'logo.png']).trim())
      expect(readFileSync(join(repo.dir, 'logo.png')).includes(Buffer.from([0x0d, 0x0a]))).toBe(false)
      expect((await diffWorkingTree(repo.dir)).map((p) => p.patch).join('')).toBe(repo.git('diff', 'HEAD'))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
