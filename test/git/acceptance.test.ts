import { describe, expect, it } from 'bun:test'
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeRepo, runGit } from '../fixtures/git-repo'
import { applySelection, commitFiles, createWorkspace, diffWorkingTree, diffWorkspace, readStatus, type FilePatch } from '../../src/git/index'
import { ForbiddenError, PatchConflictError } from '../../src/errors'

const lines = (n: number, edit: (i: number) => string | null = () => null) =>
  Array.from({ length: n }, (_, i) => (edit(i) ?? `line ${i}`) + '\n').join('')

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name
      if (p === '.git') continue
      if (d.isDirectory()) walk(p)
      else out.set(p, createHash('sha1').update(readFileSync(join(dir, p))).digest('hex'))
    }
  }
  walk('')
  return out
}

describe('acceptance: diff', () => {
  it('returns exactly the edited, deleted and untracked files, not the ignored one, with git hunk headers', async () => {
    await using repo = await makeRepo({ 'two.txt': lines(40), 'del.txt': 'bye\n', '.gitignore': 'build/\n*.log\n' })
    repo.write('two.txt', lines(40, (i) => (i === 3 ? 'changed 3' : i === 30 ? 'changed 30' : null)))
    unlinkSync(join(repo.dir, 'del.txt'))
    repo.write('untracked.txt', 'new\n')
    repo.write('debug.log', 'ignored\n')
    repo.write('build/out.js', 'ignored too\n')
    const patches = await diffWorkingTree(repo.dir)
    expect(patches.map((p) => [p.file, p.type])).toEqual([
      ['del.txt', 'deleted'],
      ['two.txt', 'modified'],
      ['untracked.txt', 'added'],
    ])
    const two = patches[1]!
    expect(two.hunks.map((h) => [h.startOld, h.lenOld, h.startNew, h.lenNew])).toEqual([
      [1, 7, 1, 7],
      [28, 7, 28, 7],
    ])
    expect(two.patch).toBe(repo.git('diff', 'HEAD', '--', 'two.txt'))
  })
})

describe('acceptance: apply and commit', () => {
  it('applies hunk 1 of 2, commits only that file, and leaves other dirty files dirty', async () => {
    await using source = await makeRepo({ 'two.txt': lines(40), 'other.txt': 'o\n' })
    await using target = await makeRepo({ 'two.txt': lines(40), 'other.txt': 'o\n' })
    source.write('two.txt', lines(40, (i) => (i === 3 ? 'changed 3' : i === 30 ? 'changed 30' : null)))
    target.write('other.txt', 'user edit\n')
    const patches = await diffWorkingTree(source.dir)
    const result = await applySelection(target.dir, patches, [{ file: 'two.txt', hunks: [1] }])
    expect(result.applied).toEqual([{ file: 'two.txt', hunks: [1] }])
    expect(readFileSync(join(target.dir, 'two.txt'), 'utf8')).toBe(lines(40, (i) => (i === 30 ? 'changed 30' : null)))
    const { commit, branch } = await commitFiles(target.dir, result.files, { message: 'take hunk 1' })
    expect(branch).toBe('main')
    expect(commit).toBe(target.git('rev-parse', 'HEAD').trim())
    expect(target.git('show', '--stat', '--format=%s', 'HEAD')).toContain('two.txt')
    expect(target.git('show', '--name-only', '--format=', 'HEAD').trim()).toBe('two.txt')
    expect(target.git('status', '--porcelain')).toBe(' M other.txt\n')
    expect(target.git('diff', '--cached')).toBe('')
  })

  it('merges several entries for one file into the union of their hunks', async () => {
    await using source = await makeRepo({ 'f.txt': lines(60) })
    await using target = await makeRepo({ 'f.txt': lines(60) })
    source.write('f.txt', lines(60, (i) => (i % 20 === 5 ? `edit ${i}` : null)))
    const patches = await diffWorkingTree(source.dir)
    const r = await applySelection(target.dir, patches, [{ file: 'f.txt', hunks: [2] }, { file: 'f.txt', hunks: [0] }, { file: 'f.txt', hunks: [0] }])
    expect(r.applied).toEqual([{ file: 'f.txt', hunks: [0, 2] }])
    expect(readFileSync(join(target.dir, 'f.txt'), 'utf8')).toBe(lines(60, (i) => (i === 5 || i === 45 ? `edit ${i}` : null)))
  })

  it('writes nothing and throws a 409 naming file and hunk when a selected hunk is stale', async () => {
    await using source = await makeRepo({ 'a.txt': lines(20), 'b.txt': lines(20) })
    await using target = await makeRepo({ 'a.txt': lines(20), 'b.txt': lines(20) })
    source.write('a.txt', lines(20, (i) => (i === 2 ? 'A' : null)))
    source.write('b.txt', lines(20, (i) => (i === 15 ? 'B' : null)))
    source.write('c.txt', 'brand new\n')
    target.write('b.txt', lines(20, (i) => (i === 16 ? 'user changed this line' : null)))
    const before = snapshot(target.dir)
    const patches = await diffWorkingTree(source.dir)
    const err = await applySelection(target.dir, patches).catch((e) => e)
    expect(err).toBeInstanceOf(PatchConflictError)
    expect(err.status).toBe(409)
    expect(err.message).toContain('b.txt')
    expect(err).toMatchObject({ file: 'b.txt', hunk: 0 })
    expect(snapshot(target.dir)).toEqual(before)
  })

  it('refuses .., absolute, .git and symlink-escaping paths with 403 and writes nothing outside', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    const outside = mkdtempSync(join(tmpdir(), 'cockpit-outside-'))
    try {
      symlinkSync(outside, join(repo.dir, 'escape'))
      const add = (file: string): FilePatch => ({
        file,
        type: 'added',
        binary: false,
        patch: '',
        content: '',
        hunks: [{ startOld: 0, lenOld: 0, startNew: 1, lenNew: 1, lines: ['+pwned'] }],
      })
      for (const file of ['../evil.txt', join(outside, 'abs.txt'), '.git/hooks/pre-commit', 'escape/x.txt', 'a/../../evil.txt']) {
        const err = await applySelection(repo.dir, [add(file)]).catch((e) => e)
        expect(err).toBeInstanceOf(ForbiddenError)
        expect(err.status).toBe(403)
      }
      expect(readdirSync(outside)).toEqual([])
      expect(existsSync(join(repo.dir, '.git/hooks/pre-commit'))).toBe(false)
      expect(existsSync(join(repo.dir, '..', 'evil.txt'))).toBe(false)
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('applies added, deleted, renamed and binary files from a workspace diff', async () => {
    await using repo = await makeRepo({ 'keep.txt': 'k\n', 'del.txt': 'd\n', 'mv.txt': 'move me\n', 'img.bin': 'a\0b' })
    const wsRoot = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(wsRoot, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      writeFileSync(join(ws, 'new.txt'), 'fresh\n')
      unlinkSync(join(ws, 'del.txt'))
      runGit(ws, wsRoot, ['mv', 'mv.txt', 'moved.txt'])
      writeFileSync(join(ws, 'img.bin'), 'a\0c\0d')
      const patches = await diffWorkspace(ws, baseline)
      expect(patches.map((p) => [p.file, p.type]).sort()).toEqual([
        ['del.txt', 'deleted'],
        ['img.bin', 'modified'],
        ['moved.txt', 'renamed'],
        ['new.txt', 'added'],
      ])
      const r = await applySelection(repo.dir, patches)
      expect(r.files.sort()).toEqual(['del.txt', 'img.bin', 'moved.txt', 'mv.txt', 'new.txt'])
      expect(snapshot(repo.dir)).toEqual(snapshot(ws))
    } finally {
      rmSync(wsRoot, { recursive: true, force: true })
    }
  })
})

describe('acceptance: commits', () => {
  it('commits on a new named branch without running hooks, with the default author', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    const marker = join(repo.dir, '..', 'hook-ran')
    writeFileSync(join(repo.dir, '.git/hooks/pre-commit'), `#!/bin/sh\ntouch ${marker}\n`)
    chmodSync(join(repo.dir, '.git/hooks/pre-commit'), 0o755)
    writeFileSync(join(repo.dir, '.git/hooks/post-commit'), `#!/bin/sh\ntouch ${marker}\n`)
    chmodSync(join(repo.dir, '.git/hooks/post-commit'), 0o755)
    repo.write('a.txt', 'b\n')
    repo.write('dirty.txt', 'untracked stays\n')
    const { commit, branch } = await commitFiles(repo.dir, ['a.txt'], { message: 'on a branch', branch: 'feature/x' })
    expect(branch).toBe('feature/x')
    expect(repo.git('rev-parse', 'HEAD').trim()).toBe(commit)
    expect(repo.git('rev-parse', 'feature/x').trim()).toBe(commit)
    expect(repo.git('symbolic-ref', '--short', 'HEAD').trim()).toBe('feature/x')
    expect(repo.git('log', '-1', '--format=%an <%ae>|%s').trim()).toBe('Cockpit Coder <cockpit@localhost>|on a branch')
    expect(repo.git('rev-parse', 'main').trim()).toBe(repo.git('rev-parse', 'HEAD~1').trim())
    expect(existsSync(marker)).toBe(false)
    expect(repo.git('status', '--porcelain')).toBe('?? dirty.txt\n')
    expect(repo.git('fsck', '--no-progress')).toBe('')
  })

  it('takes the author from the repo config', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    repo.git('config', 'user.name', 'Repo Person')
    repo.git('config', 'user.email', 'repo@example.com')
    repo.write('a.txt', 'b\n')
    await commitFiles(repo.dir, ['a.txt'], { message: 'm' })
    expect(repo.git('log', '-1', '--format=%an <%ae>').trim()).toBe('Repo Person <repo@example.com>')
  })

  it('refuses to switch to an existing branch at another commit while the tree is dirty (409)', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n' })
    repo.git('checkout', '-q', '-b', 'other')
    repo.write('b.txt', 'b\n')
    repo.git('add', 'b.txt')
    repo.git('commit', '-qm', 'other')
    repo.git('checkout', '-q', 'main')
    repo.write('a.txt', 'dirty\n')
    await expect(commitFiles(repo.dir, ['a.txt'], { message: 'm', branch: 'other' })).rejects.toMatchObject({ status: 409 })
    expect(repo.git('symbolic-ref', '--short', 'HEAD').trim()).toBe('main')
    expect(readFileSync(join(repo.dir, 'a.txt'), 'utf8')).toBe('dirty\n')
  })

  it('commits a deletion and keeps the index consistent for git', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' })
    unlinkSync(join(repo.dir, 'a.txt'))
    repo.write('b.txt', 'bb\n')
    await commitFiles(repo.dir, ['a.txt'], { message: 'delete a' })
    expect(repo.git('show', '--name-status', '--format=', 'HEAD').trim()).toBe('D\ta.txt')
    expect(repo.git('status', '--porcelain')).toBe(' M b.txt\n')
  })
})

describe('acceptance: workspaces', () => {
  it('bakes uncommitted work into the baseline, shares objects and leaves the source untouched', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n', 'gone.txt': 'g\n', 'dir/c.txt': 'c\n', '.gitignore': 'node_modules/\n' })
    repo.write('a.txt', 'edited\n')
    repo.write('untracked.txt', 'u\n')
    repo.write('node_modules/big.js', 'ignored\n')
    unlinkSync(join(repo.dir, 'gone.txt'))
    const statusBefore = repo.git('status', '--porcelain')
    const indexFile = join(repo.dir, '.git/index')
    const indexBefore = { mtime: statSync(indexFile).mtimeMs, hash: createHash('sha1').update(readFileSync(indexFile)).digest('hex') }
    const objectsBefore = repo.git('count-objects', '-v')
    const wsRoot = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(wsRoot, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      const wsGit = (...args: string[]) => runGit(ws, wsRoot, args)
      expect(baseline).toMatch(/^[0-9a-f]{40}$/)
      expect(wsGit('rev-parse', 'HEAD').trim()).toBe(baseline)
      expect(wsGit('log', '--format=%s').split('\n').length).toBeGreaterThanOrEqual(3)
      expect(wsGit('status', '--porcelain')).toBe('')
      expect(wsGit('show', 'HEAD:a.txt')).toBe('edited\n')
      expect(wsGit('show', 'HEAD:untracked.txt')).toBe('u\n')
      expect(wsGit('ls-tree', '-r', '--name-only', 'HEAD').split('\n').filter(Boolean).sort()).toEqual(['.gitignore', 'a.txt', 'dir/c.txt', 'untracked.txt'])
      expect(existsSync(join(ws, 'node_modules'))).toBe(false)
      expect(readFileSync(join(ws, '.git/objects/info/alternates'), 'utf8')).toContain(join(repo.dir, '.git/objects'))
      // the source's blobs are not copied: only the new blob(s), trees and the commit are local
      expect(Number(/^count: (\d+)/m.exec(wsGit('count-objects', '-v'))![1])).toBeLessThanOrEqual(6)
      expect(wsGit('fsck', '--no-progress', '--no-dangling')).toBe('')
      expect(await diffWorkspace(ws, baseline)).toEqual([])
      writeFileSync(join(ws, 'dir/c.txt'), 'agent\n')
      const patches = await diffWorkspace(ws, baseline)
      expect(patches.map((p) => p.file)).toEqual(['dir/c.txt'])
      expect(patches[0]!.patch).toBe(wsGit('diff', baseline))

      // the index first: `git status` itself may refresh (rewrite) it
      expect(statSync(indexFile).mtimeMs).toBe(indexBefore.mtime)
      expect(createHash('sha1').update(readFileSync(indexFile)).digest('hex')).toBe(indexBefore.hash)
      expect(repo.git('status', '--porcelain')).toBe(statusBefore)
      expect(repo.git('count-objects', '-v')).toBe(objectsBefore)
    } finally {
      rmSync(wsRoot, { recursive: true, force: true })
    }
  })

  it('makes a root baseline commit for a source without commits', async () => {
    await using repo = await makeRepo()
    repo.write('first.txt', 'hello\n')
    const wsRoot = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(wsRoot, 'ws')
      const { baseline } = await createWorkspace(repo.dir, ws)
      expect(runGit(ws, wsRoot, ['rev-list', '--count', 'HEAD']).trim()).toBe('1')
      expect(runGit(ws, wsRoot, ['show', `${baseline}:first.txt`])).toBe('hello\n')
      expect(runGit(ws, wsRoot, ['status', '--porcelain'])).toBe('')
      expect(existsSync(join(repo.dir, '.git/index'))).toBe(false)
    } finally {
      rmSync(wsRoot, { recursive: true, force: true })
    }
  })

  it('reports status like git status --porcelain', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' })
    repo.write('a.txt', 'x\n')
    repo.write('n.txt', 'n\n')
    repo.write('b.txt', 'staged\n')
    repo.git('add', 'b.txt')
    const status = await readStatus(repo.dir)
    expect(status.branch).toBe('main')
    expect(status.head).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect(status.files.map((f) => `${f.status} ${f.file}`).join('\n') + '\n').toBe(repo.git('status', '--porcelain'))
  })
})

