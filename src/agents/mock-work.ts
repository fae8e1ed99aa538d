import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { resolveRepoFile } from '../policy/paths'
import { MOCK_DEFAULT_FILE } from './mock-spec'

/** The mock's edits, shared by its print and ACP forms. */
export function applyMockEdit(cwd: string, file: string, content: string | null): void {
  // realpath + containment: a symlink in the workspace must not lead the write outside it.
  const target = resolveRepoFile(cwd, file)
  if (content === null) {
    rmSync(target, { force: true })
    return
  }
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, content)
}

/** Without `edits`, the mock appends the instruction to COCKPIT_MOCK.md; returns that file. */
export function defaultMockEdit(cwd: string, instruction: string): string {
  const target = resolveRepoFile(cwd, MOCK_DEFAULT_FILE)
  const line = `- ${instruction.replace(/\s+/g, ' ').trim()}\n`
  const before = existsSync(target) ? readFileSync(target, 'utf8') : '# Cockpit Coder mock agent\n\nInstructions it was given:\n\n'
  writeFileSync(target, before.endsWith('\n') || before === '' ? before + line : `${before}\n${line}`)
  return MOCK_DEFAULT_FILE
}

/** `delayMs` as up to 10 progress steps: [step, steps, ms to wait before it]. */
export function mockWorkSteps(delayMs: number): [number, number, number][] {
  const steps = delayMs === 0 ? 0 : Math.min(10, Math.max(1, Math.ceil(delayMs / 500)))
  return Array.from({ length: steps }, (_, i) => [i + 1, steps, delayMs / steps])
}
