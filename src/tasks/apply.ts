import { applyAndCommitSelection, type FilePatch, type HunkSelection } from '../git'
import { BadRequestError, ConflictError } from '../errors'
import type { TaskRecord } from './types'
import { checkBranchName, commitMessageFor, TASK_LIMITS } from './validation'

export type ApplyRequest = { select?: HunkSelection | null; commitMessage?: string | null; branch?: string | null }

export type ApplyResult = { ok: true; commit: string; branch: string; applied: { file: string; hunks: number[] }[] }

/** Refuses a selection naming a file or hunk the task did not produce, before anything is touched. */
function checkSelection(patches: FilePatch[], select: HunkSelection): void {
  for (const [index, entry] of select.entries()) {
    const patch = patches.find((p) => p.file === entry.file)
    if (!patch) {
      throw new BadRequestError(`select[${index}].file ${entry.file} is not among the task's patches.`, 'invalid_selection')
    }
    for (const hunk of entry.hunks ?? []) {
      if (!Number.isInteger(hunk) || hunk < 0 || hunk >= patch.hunks.length) {
        const range = patch.hunks.length === 0 ? 'it has no hunks' : `use 0 to ${patch.hunks.length - 1}`
        throw new BadRequestError(`select[${index}].hunks: ${entry.file} has no hunk ${hunk}; ${range}.`, 'invalid_selection')
      }
    }
  }
}

/**
 * Applies a completed task's patches (all, or the selected files and hunks) to the session repo
 * and commits exactly those files. All or nothing: a hunk that no longer applies is a 409 from the
 * git layer and nothing is written; a failure (or a crash) after the first write leaves the repo
 * as it was (git/apply-commit.ts).
 */
export async function applyTask(repo: string, task: TaskRecord, patches: FilePatch[], request: ApplyRequest): Promise<ApplyResult> {
  if (task.status === 'applied') throw new ConflictError(`Task ${task.id} is already applied (commit ${task.commit}).`, 'already_applied')
  if (task.status !== 'completed') {
    throw new ConflictError(`Task ${task.id} is ${task.status}; only a completed task can be applied.`, 'task_not_completed')
  }
  if (patches.length === 0) throw new ConflictError(`Task ${task.id} changed nothing; there is nothing to apply.`, 'nothing_to_apply')
  const select = request.select ?? undefined
  if (select !== undefined) {
    if (select.length === 0) throw new BadRequestError('select is empty; omit it to apply everything.', 'invalid_selection')
    checkSelection(patches, select)
  }
  const requested = request.commitMessage?.trim() ?? ''
  if (requested.length > TASK_LIMITS.maxCommitMessageChars) {
    throw new BadRequestError(`commitMessage is over ${TASK_LIMITS.maxCommitMessageChars} characters.`, 'invalid_commit_message')
  }
  const message = requested !== '' ? requested : commitMessageFor(task.instruction)
  const branchInput = request.branch ?? task.branch
  const branch = branchInput === null || branchInput === undefined ? undefined : checkBranchName(branchInput)

  const committed = await applyAndCommitSelection(repo, patches, select, { message, ...(branch !== undefined ? { branch } : {}) })
  return { ok: true, commit: committed.commit, branch: committed.branch, applied: committed.applied }
}
