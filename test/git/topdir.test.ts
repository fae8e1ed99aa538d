/**
 * The workspace directory's FS_TOPDIR_FL (topdir.ts), read back with lsattr(1): set where the file
 * system takes it, reported truthfully where it does not, and never at the cost of other flags.
 */
import { describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeRepo } from '../fixtures/git-repo'
import { createWorkspace } from '../../src/git/index'
import { markTopDirectory } from '../../src/git/topdir'

/** The attribute letters lsattr prints for a directory itself ("" where the file system has none). */
function attributes(dir: string): string {
  if (!Bun.which('lsattr')) throw new Error('lsattr (e2fsprogs) is needed to check directory attributes; .ci/run installs it')
  const r = Bun.spawnSync(['lsattr', '-d', dir], { stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) return ''
  return r.stdout.toString().split(' ')[0]!
}

function chattr(flag: string, dir: string): boolean {
  return Bun.spawnSync(['chattr', flag, dir], { stdout: 'pipe', stderr: 'pipe' }).exitCode === 0
}

describe('markTopDirectory', () => {
  it('sets the T attribute exactly when it says it did', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cockpit-topdir-'))
    try {
      const dir = join(root, 'ws')
      mkdirSync(dir)
      expect(attributes(dir)).not.toContain('T')
      const marked = await markTopDirectory(dir)
      expect(attributes(dir).includes('T')).toBe(marked)
      // a second call finds it already set
      expect(await markTopDirectory(dir)).toBe(marked)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('keeps the flags the directory already had', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cockpit-topdir-'))
    try {
      const dir = join(root, 'ws')
      mkdirSync(dir)
      if (!chattr('+d', dir)) return expect(await markTopDirectory(dir)).toBe(attributes(dir).includes('T'))
      expect(await markTopDirectory(dir)).toBe(true)
      expect(attributes(dir)).toContain('d')
      expect(attributes(dir)).toContain('T')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('answers false for a path that is not there, without throwing', async () => {
    expect(await markTopDirectory(join(tmpdir(), 'cockpit-topdir-missing', 'nowhere'))).toBe(false)
  })

  it('marks each new workspace where the file system takes the flag', async () => {
    await using repo = await makeRepo({ 'a.txt': 'a\n', 'src/b.txt': 'b\n' })
    const root = mkdtempSync(join(tmpdir(), 'cockpit-topdir-'))
    try {
      const probe = join(root, 'probe')
      mkdirSync(probe)
      const supported = await markTopDirectory(probe)
      const ws = join(root, 'ws')
      await createWorkspace(repo.dir, ws)
      expect(attributes(ws).includes('T')).toBe(supported)
      // what is made inside is not marked (the flag is not inherited)
      expect(attributes(join(ws, 'src'))).not.toContain('T')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
