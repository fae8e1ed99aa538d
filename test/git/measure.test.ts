/**
 * The workspace quota's sizes: what createWorkspace says it wrote and what measureTree walks
 * agree with each other and with find(1) (apparent sizes of everything but directories,
 * symlinks not followed).
 */
import { describe, expect, it } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeRepo } from '../fixtures/git-repo'
import { createWorkspace, measureTree } from '../../src/git/index'

/** Sum of `find dir ! -type d -printf %s`: the reference the quota's sizes are checked against. */
function findBytes(dir: string): number {
  const r = Bun.spawnSync(['find', dir, '!', '-type', 'd', '-printf', '%s\\n'], { stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`find: ${r.stderr.toString()}`)
  return r.stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .reduce((sum, n) => sum + Number(n), 0)
}

describe('workspace sizes', () => {
  it('createWorkspace reports the bytes it wrote, as measureTree and find count them', async () => {
    const files: Record<string, string> = { '.gitignore': 'node_modules/\n*.log\n', 'README.md': '# r\n' }
    for (let i = 0; i < 60; i++) files[`src/d${i % 7}/f${i}.txt`] = `file ${i}\n`.repeat(i + 1)
    await using repo = await makeRepo(files)
    chmodSync(join(repo.dir, 'src/d0/f0.txt'), 0o755)
    symlinkSync('../README.md', join(repo.dir, 'src/link'))
    repo.write('src/d3/f3.txt', 'changed, not committed\n')
    repo.write('untracked/new.txt', 'new\n'.repeat(100))
    repo.write('node_modules/dep/index.js', 'ignored: not copied\n'.repeat(1000))
    repo.write('debug.log', 'ignored too\n')
    const root = mkdtempSync(join(tmpdir(), 'cockpit-ws-'))
    try {
      const ws = join(root, 'ws')
      const { bytes } = await createWorkspace(repo.dir, ws)
      expect(bytes).toBe(findBytes(ws))
      expect(await measureTree(ws)).toBe(bytes)

      // An agent's ignored output counts too (the diff never looks at it).
      mkdirSync(join(ws, 'node_modules/big'), { recursive: true })
      writeFileSync(join(ws, 'node_modules/big/blob.bin'), new Uint8Array(300_000))
      expect(await measureTree(ws)).toBe(bytes + 300_000)
      expect(await measureTree(ws)).toBe(findBytes(ws))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('counts a symlink as itself, never what it points to, and a missing path as nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cockpit-measure-'))
    try {
      writeFileSync(join(root, 'outside.bin'), new Uint8Array(50_000))
      mkdirSync(join(root, 'tree'))
      writeFileSync(join(root, 'tree', 'a.txt'), 'abc')
      symlinkSync(join(root, 'outside.bin'), join(root, 'tree', 'to-file'))
      symlinkSync(root, join(root, 'tree', 'to-dir'))
      const linkBytes = join(root, 'outside.bin').length + root.length
      expect(await measureTree(join(root, 'tree'))).toBe(3 + linkBytes)
      expect(await measureTree(join(root, 'tree'))).toBe(findBytes(join(root, 'tree')))
      expect(await measureTree(join(root, 'tree', 'a.txt'))).toBe(3)
      expect(await measureTree(join(root, 'missing'))).toBe(0)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
