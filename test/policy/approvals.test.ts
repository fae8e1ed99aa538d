import { describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decidePermission } from '../../src/policy/approvals'

function workspace() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-approvals-')))
  const dir = join(root, 'ws')
  mkdirSync(join(dir, '.git'), { recursive: true })
  mkdirSync(join(root, 'outside'))
  symlinkSync(join(root, 'outside'), join(dir, 'escape'))
  return { dir, root, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) }
}

describe('APPROVAL_POLICY decisions', () => {
  it('edits: allows edits of files inside the workspace, relative or absolute, including new ones', () => {
    using w = workspace()
    for (const paths of [['src/new.ts'], [join(w.dir, 'a.txt')], ['a', 'b/c']]) {
      expect(decidePermission('edits', { kind: 'edit', command: null, paths }, w.dir, [])).toBe('allow')
    }
  })

  it('edits: asks an edit outside the workspace, through a symlink, inside .git, of the workspace itself or with no path', () => {
    using w = workspace()
    for (const paths of [[join(w.root, 'outside', 'x')], ['escape/x'], ['../outside/x'], ['.git/hooks/pre-commit'], ['sub/.GIT/config'], [w.dir], []]) {
      expect(decidePermission('edits', { kind: 'edit', command: null, paths }, w.dir, [])).toBe('ask')
    }
    expect(decidePermission('edits', { kind: 'edit', command: null, paths: ['ok.txt', '../x'] }, w.dir, [])).toBe('ask')
  })

  it('edits: asks every command, even an allowlisted one', () => {
    using w = workspace()
    expect(decidePermission('edits', { kind: 'execute', command: 'npm test', paths: [] }, w.dir, ['npm test'])).toBe('ask')
  })

  it('allowlist: allows a command whose words pass CMD_ALLOWLIST and asks anything a shell would read differently', () => {
    using w = workspace()
    const list = ['npm test', 'pytest *']
    expect(decidePermission('allowlist', { kind: 'execute', command: 'npm test', paths: [] }, w.dir, list)).toBe('allow')
    expect(decidePermission('allowlist', { kind: 'execute', command: 'pytest -k "fast one"', paths: [] }, w.dir, list)).toBe('allow')
    for (const command of ['npm test && id', 'pytest x; id', 'pytest $(id)', 'pytest `id`', 'pytest > /etc/x', 'pytest x | sh', 'npm run build', 'pytest\nid']) {
      expect(decidePermission('allowlist', { kind: 'execute', command, paths: [] }, w.dir, list)).toBe('ask')
    }
    expect(decidePermission('allowlist', { kind: 'edit', command: null, paths: ['a.txt'] }, w.dir, list)).toBe('allow')
  })

  it('ask asks everything and deny rejects everything', () => {
    using w = workspace()
    expect(decidePermission('ask', { kind: 'edit', command: null, paths: ['a.txt'] }, w.dir, [])).toBe('ask')
    expect(decidePermission('deny', { kind: 'edit', command: null, paths: ['a.txt'] }, w.dir, [])).toBe('reject')
    expect(decidePermission('deny', { kind: 'read', command: null, paths: [] }, w.dir, [])).toBe('reject')
  })
})
