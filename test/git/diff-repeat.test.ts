import { describe, expect, it } from 'bun:test'
import { chmodSync, copyFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gitEnv, makeRepo, type TestRepo } from '../fixtures/git-repo'
import { diffWorkingTree } from '../../src/git/index'

/**
 * What `git add -A -N && git diff HEAD` prints, computed on a copy of the index so the repo's
 * own index (what diffWorkingTree reads) is left exactly as the test made it.
 */
function gitWorkingDiff(repo: TestRepo, base = 'HEAD'): string {
  const root = dirname(repo.dir)
  const tmpIndex = join(root, 'expected.index')
  rmSync(tmpIndex, { force: true })
  try {
    copyFileSync(join(repo.dir, '.git', 'index'), tmpIndex)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const env = { ...gitEnv(root), GIT_INDEX_FILE: tmpIndex }
  const run = (args: string[]) => {
    const r = Bun.spawnSync(['git', '-c', 'core.quotepath=off', '-c', 'diff.renames=false', ...args], { cwd: repo.dir, env, stdout: 'pipe', stderr: 'pipe' })
    if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`)
    return r.stdout.toString()
  }
  run(['add', '-A', '-N'])
  return run(['diff', base])
}

async function expectSameAsGit(repo: TestRepo, base = 'HEAD'): Promise<void> {
  const patches = await diffWorkingTree(repo.dir, { base })
  expect(patches.map((p) => p.patch).join('')).toBe(gitWorkingDiff(repo, base))
}

const body = (i: number, v = 0) => `file ${i}\n${'x\n'.repeat(i % 5)}version ${v}\n`

describe('diffWorkingTree on a big tree, called again and again', () => {
  it('stays equal to git as files, the index, HEAD, config and ignore rules change between calls', async () => {
    // more tracked files than the lstat thread-pool threshold, spread over directories
    const files: Record<string, string> = { '.gitignore': '*.log\n' }
    for (let i = 0; i < 3000; i++) files[`src/d${i % 30}/f${i}.txt`] = body(i)
    await using repo = await makeRepo(files)
    await expectSameAsGit(repo)
    expect(await diffWorkingTree(repo.dir)).toEqual([])

    // edits, deletions, a mode change, a symlink, untracked and ignored files across the tree
    for (const i of [3, 1001, 1502, 2999]) repo.write(`src/d${i % 30}/f${i}.txt`, body(i, 1))
    for (const i of [10, 2000]) unlinkSync(join(repo.dir, `src/d${i % 30}/f${i}.txt`))
    chmodSync(join(repo.dir, 'src/d0/f1500.txt'), 0o755)
    symlinkSync('f4.txt', join(repo.dir, 'src/d4/link'))
    repo.write('src/d7/new.txt', 'new\n')
    repo.write('top.txt', 'top\n')
    repo.write('src/d8/noise.log', 'ignored\n')
    await expectSameAsGit(repo)
    const files1 = (await diffWorkingTree(repo.dir)).map((p) => p.file)
    expect(files1).toEqual(['src/d0/f1500.txt', 'src/d10/f10.txt', 'src/d11/f1001.txt', 'src/d20/f2000.txt', 'src/d29/f2999.txt', 'src/d3/f3.txt', 'src/d4/link', 'src/d7/new.txt', 'src/d2/f1502.txt', 'top.txt'].sort(byteOrder))

    // the index changes (a staged edit, deletion and mode change, so their stat data is clean
    // again): still a diff against HEAD
    repo.git('add', 'src/d3/f3.txt', 'src/d10/f10.txt', 'src/d0/f1500.txt')
    await expectSameAsGit(repo)
    expect((await diffWorkingTree(repo.dir)).map((p) => p.file)).toEqual(files1)

    // HEAD moves: the staged changes are no longer differences, but they are against the old HEAD
    const first = repo.git('rev-parse', 'HEAD').trim()
    repo.git('commit', '-qm', 'some')
    await expectSameAsGit(repo)
    expect((await diffWorkingTree(repo.dir)).map((p) => p.file)).not.toContain('src/d3/f3.txt')
    await expectSameAsGit(repo, first)
    expect((await diffWorkingTree(repo.dir, { base: first })).map((p) => p.file)).toContain('src/d3/f3.txt')
    await expectSameAsGit(repo)

    // another edit of a file already edited, and an edit of one that was clean
    repo.write('src/d11/f1001.txt', body(1001, 2))
    repo.write('src/d12/f12.txt', body(12, 2))
    await expectSameAsGit(repo)

    // core.filemode=false: the executable bit is no longer a change
    repo.git('config', 'core.filemode', 'false')
    await expectSameAsGit(repo)
    expect((await diffWorkingTree(repo.dir)).map((p) => p.file)).not.toContain('src/d0/f1500.txt')

    // a new ignore rule hides an untracked file that was listed
    repo.write('.gitignore', '*.log\ntop.txt\n')
    await expectSameAsGit(repo)
    expect((await diffWorkingTree(repo.dir)).map((p) => p.file)).not.toContain('top.txt')
  }, 120_000) // thirty-odd git calls on a 3000-file tree: 15 s alone, more than twice that under a loaded suite

  it('sees a same-size edit made in the instant the index was written (racily clean)', async () => {
    await using repo = await makeRepo({ 'a.txt': 'aaaa\n', 'b.txt': 'b\n' })
    for (let round = 0; round < 5; round++) {
      repo.write('a.txt', `${round}aaa\n`)
      repo.git('add', 'a.txt')
      // same size, written right after git stamped the index: the stat data may match exactly
      repo.write('a.txt', `${round}bbb\n`)
      const patches = await diffWorkingTree(repo.dir)
      expect(patches.map((p) => p.patch).join('')).toBe(gitWorkingDiff(repo))
      expect(patches[0]!.hunks[0]!.lines).toEqual(['-aaaa', `+${round}bbb`])
    }
  })
})

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
