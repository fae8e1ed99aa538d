import { afterAll, describe, expect, it } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveProgram } from '../../src/policy/programs'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'cc-programs-')))
const bin = join(root, 'bin')
const other = join(root, 'other')
mkdirSync(bin)
mkdirSync(other)
const tool = join(bin, 'tool')
writeFileSync(tool, '#!/bin/sh\nexit 0\n')
chmodSync(tool, 0o755)
const notExecutable = join(bin, 'plain')
writeFileSync(notExecutable, 'data\n')
chmodSync(notExecutable, 0o644)
writeFileSync(join(other, 'tool'), '#!/bin/sh\nexit 1\n')
chmodSync(join(other, 'tool'), 0o755)
afterAll(() => rmSync(root, { recursive: true, force: true }))

const names = { allowAbsolutePath: false }
const paths = { allowAbsolutePath: true }

describe('resolveProgram', () => {
  it('finds a bare name in the first PATH entry that holds it', () => {
    expect(resolveProgram('tool', `${bin}:${other}`, names)).toEqual({ ok: true, path: tool })
    expect(resolveProgram('tool', `${other}:${bin}`, names)).toEqual({ ok: true, path: join(other, 'tool') })
  })

  it('skips relative and empty PATH entries, which a shell reads as the working directory', () => {
    expect(resolveProgram('tool', `:.:bin:${other}`, names)).toEqual({ ok: true, path: join(other, 'tool') })
    expect(resolveProgram('tool', '::.', names)).toEqual({ ok: false, refusal: 'not_found' })
  })

  it('reports a file that is not executable as not found', () => {
    expect(resolveProgram('plain', bin, names)).toEqual({ ok: false, refusal: 'not_found' })
    expect(resolveProgram(notExecutable, '', paths)).toEqual({ ok: false, refusal: 'not_found' })
  })

  for (const file of ['', '.', '..']) {
    it(`refuses ${JSON.stringify(file)} as not a program name`, () => {
      expect(resolveProgram(file, bin, paths)).toEqual({ ok: false, refusal: 'not_a_name' })
    })
  }

  for (const file of ['./tool', 'bin/tool', '../bin/tool']) {
    it(`refuses the relative path ${JSON.stringify(file)} even when absolute paths are allowed`, () => {
      expect(resolveProgram(file, bin, paths)).toEqual({ ok: false, refusal: 'path_not_allowed' })
    })
  }

  it('takes an absolute path as is only when the caller allows it', () => {
    expect(resolveProgram(tool, '', paths)).toEqual({ ok: true, path: tool })
    expect(resolveProgram(tool, bin, names)).toEqual({ ok: false, refusal: 'path_not_allowed' })
  })

  it('reports a missing absolute path as not found', () => {
    expect(resolveProgram(join(bin, 'missing'), '', paths)).toEqual({ ok: false, refusal: 'not_found' })
  })
})
