import { describe, expect, it } from 'bun:test'
import { readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gitEnv, makeRepo, type TestRepo } from '../fixtures/git-repo'
import { diffWorkingTree } from '../../src/git/index'
import { openRepo, readObject } from '../../src/git/odb'
import { applyDelta } from '../../src/git/delta'

/** Every object of the repo as `git cat-file --batch` prints it: oid → type and bytes. */
function allObjects(repo: TestRepo): Map<string, { type: string; content: Buffer }> {
  const env = gitEnv(dirname(repo.dir))
  const list = repo.git('cat-file', '--batch-all-objects', '--batch-check=%(objectname)')
  const r = Bun.spawnSync(['git', 'cat-file', '--batch'], { cwd: repo.dir, env, stdin: Buffer.from(list), stdout: 'pipe' })
  const out = Buffer.from(r.stdout)
  const objects = new Map<string, { type: string; content: Buffer }>()
  let off = 0
  while (off < out.length) {
    const nl = out.indexOf(10, off)
    const [oid, type, size] = out.toString('latin1', off, nl).split(' ')
    const content = out.subarray(nl + 1, nl + 1 + Number(size))
    objects.set(oid!, { type: type!, content })
    off = nl + 1 + Number(size) + 1
  }
  return objects
}

/** A history where later versions of files are stored as deltas of earlier ones. */
async function repoWithHistory(): Promise<TestRepo> {
  const repo = await makeRepo({ 'grow.txt': 'start\n', 'bin.dat': Buffer.from([0, 1, 2, 3]).toString('latin1') })
  for (let v = 1; v <= 6; v++) {
    // each version rewrites another block, so version v is closest to v-1: chains, not a star
    const line = (i: number) => `${i} ${((i * 2654435761) >>> 0).toString(36)} ${i < v * 60 ? `rewritten in ${Math.ceil((i + 1) / 60)}` : 'original'}\n`
    repo.write('grow.txt', Array.from({ length: 420 }, (_, i) => line(i)).join(''))
    repo.write('bin.dat', Buffer.concat([Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)), Buffer.alloc(v * 100, v)]))
    repo.write(`dir${v % 2}/note.txt`, `note ${v}\n`.repeat(50))
    repo.git('add', '-A')
    repo.git('commit', '-qm', `version ${v}`)
  }
  repo.git('tag', '-a', 'v6', '-m', 'tagged')
  return repo
}

function packIdx(repo: TestRepo): { idx: string; pack: string } {
  const dir = join(repo.dir, '.git', 'objects', 'pack')
  const idx = readdirSync(dir).filter((n) => n.endsWith('.idx'))
  expect(idx).toHaveLength(1)
  return { idx: join(dir, idx[0]!), pack: join(dir, idx[0]!.replace(/idx$/, 'pack')) }
}

async function expectSameObjects(repo: TestRepo): Promise<void> {
  const objects = allObjects(repo)
  const looseLeft = repo.git('count-objects', '-v')
  expect(/^count: 0$/m.test(looseLeft)).toBe(true)
  // the history must really be stored as deltas, or this checks nothing about delta chains
  const verify = repo.git('verify-pack', '-v', packIdx(repo).idx)
  expect(verify).toMatch(/chain length = [2-9]/)
  const r = openRepo(repo.dir)
  for (const [oid, want] of objects) {
    const got = await readObject(r, oid)
    expect(got.type).toBe(want.type)
    expect(Buffer.from(got.content).equals(want.content)).toBe(true)
  }
  expect(objects.size).toBeGreaterThan(30)
}

describe('pack reader', () => {
  it('reads every object of a pack with offset deltas like git cat-file', async () => {
    await using repo = await repoWithHistory()
    repo.git('repack', '-adfq', '--depth=10', '--window=50')
    await expectSameObjects(repo)
  })

  it('reads ref deltas, an index version 1 and 64-bit offsets', async () => {
    await using repo = await repoWithHistory()
    repo.git('-c', 'repack.useDeltaBaseOffset=false', 'repack', '-adfq', '--depth=10', '--window=50')
    await expectSameObjects(repo)
    for (const version of ['1', '2,100']) {
      // a fresh index under a new name (the parsed-index cache is keyed by file name)
      const { idx, pack } = packIdx(repo)
      const tmp = join(repo.dir, '.git', 'new.idx')
      repo.git('index-pack', `--index-version=${version}`, '-o', tmp, pack)
      const name = join(dirname(pack), `pack-v${version.replace(',', '_')}`)
      renameSync(pack, `${name}.pack`)
      rmSync(idx)
      renameSync(tmp, `${name}.idx`)
      await expectSameObjects(repo)
    }
  })

  it('diffs a packed repository like git, and says a missing object is missing', async () => {
    await using repo = await repoWithHistory()
    repo.git('gc', '-q', '--aggressive')
    repo.write('grow.txt', 'rewritten\n')
    repo.write('bin.dat', 'now text\n')
    rmSync(join(repo.dir, 'dir0', 'note.txt'))
    const patches = await diffWorkingTree(repo.dir)
    expect(patches.map((p) => p.patch).join('')).toBe(repo.git('diff', 'HEAD'))
    expect(patches.map((p) => p.file)).toEqual(['bin.dat', 'dir0/note.txt', 'grow.txt'])
    await expect(readObject(openRepo(repo.dir), '0123456789012345678901234567890123456789')).rejects.toMatchObject({ status: 404, kind: 'object_missing' })
  })

  it('refuses corrupt deltas instead of producing wrong bytes', () => {
    const base = Buffer.from('hello world')
    // sizes 11 → 5, copy 5 bytes from offset 6
    expect(applyDelta(base, Buffer.from([11, 5, 0x91, 6, 5])).toString()).toBe('world')
    expect(() => applyDelta(base, Buffer.from([12, 5, 0x91, 6, 5]))).toThrow('base size')
    expect(() => applyDelta(base, Buffer.from([11, 5, 0x91, 8, 5]))).toThrow('out of range')
    expect(() => applyDelta(base, Buffer.from([11, 5, 0]))).toThrow('reserved')
    expect(() => applyDelta(base, Buffer.from([11, 6, 0x91, 6, 5]))).toThrow('result size')
  })
})
