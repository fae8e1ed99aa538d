import { BadRequestError } from '../errors'

export const TASK_LIMITS = {
  /** An instruction travels as one argv word; Linux caps a single argument at 128 KiB. */
  maxInstructionChars: 32 * 1024,
  maxCommitMessageChars: 8 * 1024,
  maxUserMessageChars: 32 * 1024,
  maxBranchChars: 200,
} as const

/** git check-ref-format's rules for a branch name, minus the ones no client would hit by accident. */
export function checkBranchName(branch: string): string {
  const bad = (why: string) => new BadRequestError(`branch "${branch}" is not a valid branch name: ${why}.`, 'invalid_branch')
  if (branch === '' || branch.length > TASK_LIMITS.maxBranchChars) throw bad(`use 1 to ${TASK_LIMITS.maxBranchChars} characters`)
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(branch)) throw bad('no spaces, control characters or any of ~ ^ : ? * [ \\')
  if (branch.startsWith('-') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.')) {
    throw bad('it may not start with "-" or "/" nor end with "/" or "."')
  }
  if (branch.includes('..') || branch.includes('//') || branch.includes('@{') || branch === '@') throw bad('no "..", "//" or "@{"')
  if (branch.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) {
    throw bad('no part may start with "." or end with ".lock"')
  }
  return branch
}

export function checkInstruction(instruction: unknown): string {
  if (typeof instruction !== 'string' || instruction.trim() === '') {
    throw new BadRequestError('instruction must be a non-empty string.', 'invalid_instruction')
  }
  if (instruction.length > TASK_LIMITS.maxInstructionChars) {
    throw new BadRequestError(`instruction is over ${TASK_LIMITS.maxInstructionChars} characters.`, 'invalid_instruction')
  }
  if (instruction.includes('\0')) throw new BadRequestError('instruction contains a NUL character.', 'invalid_instruction')
  return instruction
}

/** The commit message apply uses when the request gives none: the instruction's first line. */
export function commitMessageFor(instruction: string): string {
  const firstLine = instruction.split(/\r?\n/).find((line) => line.trim() !== '') ?? 'Apply agent changes'
  const line = firstLine.replace(/\s+/g, ' ').trim()
  return line.length > 72 ? `${line.slice(0, 71)}…` : line
}
