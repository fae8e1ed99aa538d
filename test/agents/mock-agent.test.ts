import { describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockAgent, mockAgentCommand } from '../../src/agents'
import { parseMockSpec } from '../../src/agents/mock-spec'

function tempDirs() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-mock-')))
  const cwd = join(root, 'workspace')
  mkdirSync(cwd)
  return { root, cwd, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) }
}

/** Runs the mock agent the way the task layer does (the same argv), with pipes instead of a PTY. */
async function runMock(cwd: string, instruction: string, context: Record<string, unknown> | null, stdin = '') {
  const launch = createMockAgent().launch({ instruction, context })
  const child = Bun.spawn([launch.file, ...launch.args], { cwd, stdin: new Blob([stdin]), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { code, stdout: Bun.stripANSI(stdout), stderr: Bun.stripANSI(stderr), raw: stdout }
}

describe('the mock agent process', () => {
  it('is this server’s own executable run in a hidden mode', () => {
    const [file, entry] = mockAgentCommand()
    expect(file).toBe(process.execPath)
    expect(entry).toEndWith('src/agents/mock-agent-entry.ts')
    const launch = createMockAgent().launch({ instruction: 'x', context: null })
    expect(launch.args.slice(1, 2)).toEqual(['__mock-agent'])
  })

  it('writes exactly the files it is given and deletes those with null content', async () => {
    using dirs = tempDirs()
    writeFileSync(join(dirs.cwd, 'old.txt'), 'old\n')
    writeFileSync(join(dirs.cwd, 'keep.txt'), 'keep\n')
    const edits = [
      { file: 'src/deep/new.ts', content: 'export {}\n' },
      { file: 'old.txt', content: null },
    ]
    const result = await runMock(dirs.cwd, 'edit', { mock: { edits } })
    expect(result.code).toBe(0)
    expect(readFileSync(join(dirs.cwd, 'src/deep/new.ts'), 'utf8')).toBe('export {}\n')
    expect(existsSync(join(dirs.cwd, 'old.txt'))).toBe(false)
    expect(readFileSync(join(dirs.cwd, 'keep.txt'), 'utf8')).toBe('keep\n')
    expect(result.raw).toContain('\x1b[32m')
    expect(result.stdout).toContain('edited src/deep/new.ts')
  })

  it('appends the instruction to COCKPIT_MOCK.md when no edits are given, deterministically', async () => {
    using dirs = tempDirs()
    await runMock(dirs.cwd, 'first   thing', null)
    await runMock(dirs.cwd, 'second\nthing', null)
    expect(readFileSync(join(dirs.cwd, 'COCKPIT_MOCK.md'), 'utf8')).toBe(
      '# Cockpit Coder mock agent\n\nInstructions it was given:\n\n- first thing\n- second thing\n',
    )
  })

  it('exits non-zero with the message when told to fail', async () => {
    using dirs = tempDirs()
    const result = await runMock(dirs.cwd, 'x', { mock: { fail: true, output: 'compilation failed' } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('mock agent failed: compilation failed')
  })

  it('acknowledges each line typed on its input', async () => {
    using dirs = tempDirs()
    const result = await runMock(dirs.cwd, 'x', { mock: { delayMs: 300 } }, 'first follow-up\nsecond one\n')
    expect(result.stdout).toContain('follow-up acknowledged: first follow-up')
    expect(result.stdout).toContain('follow-up acknowledged: second one')
  })

  it('refuses to write through a symlink that leads out of the workspace', async () => {
    using dirs = tempDirs()
    const outside = join(dirs.root, 'outside')
    mkdirSync(outside)
    symlinkSync(outside, join(dirs.cwd, 'escape'))
    const result = await runMock(dirs.cwd, 'x', { mock: { edits: [{ file: 'escape/pwned.txt', content: 'x' }] } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('outside the repository')
    expect(existsSync(join(outside, 'pwned.txt'))).toBe(false)
  })
})

describe('context.mock validation', () => {
  it('refuses paths that leave the workspace or enter .git, and malformed fields, with 400 invalid_mock_spec', () => {
    const bad: unknown[] = [
      'not an object',
      { delayMs: 1.5 },
      { delayMs: 25 * 60 * 60 * 1000 },
      { fail: 'yes' },
      { output: 3 },
      { edits: [{ file: '/etc/passwd', content: 'x' }] },
      { edits: [{ file: 'a/../../b', content: 'x' }] },
      { edits: [{ file: 'a/.GIT/hooks/pre-commit', content: 'x' }] },
      { edits: [{ file: 'a\\b', content: 'x' }] },
      { edits: [{ file: 'ok.txt', content: 5 }] },
      { edits: Array.from({ length: 101 }, (_, i) => ({ file: `f${i}`, content: '' })) },
      { edits: [{ file: 'big.txt', content: 'x'.repeat(200 * 1024) }] },
    ]
    for (const mock of bad) {
      expect(() => parseMockSpec('x', { mock })).toThrow(expect.objectContaining({ status: 400, kind: 'invalid_mock_spec' }))
    }
  })

  it('accepts a full spec and defaults the rest', () => {
    expect(parseMockSpec('go', null)).toEqual({ instruction: 'go', delayMs: 0, edits: null, fail: false, output: null, prompt: null, ask: null })
    expect(parseMockSpec('go', { mock: { delayMs: 10, edits: [{ file: 'a/b.txt', content: null }], fail: true, output: 'o' } })).toMatchObject({
      delayMs: 10,
      edits: [{ file: 'a/b.txt', content: null }],
      fail: true,
    })
  })
})
