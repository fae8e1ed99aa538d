import { isAbsolute, relative, resolve } from 'node:path'
import { matchesEntry, parseAllowlistEntry, splitCommandWords } from './commands'
import { isInside, realpathAllowingMissing } from './paths'

export type ApprovalPolicyName = 'edits' | 'ask' | 'allowlist' | 'deny'

/** What an agent asks to do, as far as the policy needs to know. */
export type PermissionSubject = { kind: string; command: string | null; paths: readonly string[] }

export type PolicyDecision = 'allow' | 'reject' | 'ask'

/** ACP tool kinds that only change files. */
const EDIT_KINDS = new Set(['edit', 'delete', 'move'])

/**
 * Agents run a command through a shell (Claude's Bash tool, codex's `bash -lc`), but the allowlist
 * judges words. `pytest x; rm -rf ~` splits into words that pass `pytest *` while bash runs both,
 * so a command with any character a shell treats specially is never allowed by the policy alone:
 * it is asked. What is left is words, quotes and harmless punctuation.
 */
const PLAIN_COMMAND = /^[A-Za-z0-9 _\-./=:,@+%'"]+$/

/**
 * What the server decides on its own for a permission request (APPROVAL_POLICY): `edits` allows
 * edits of files inside the workspace (they reach the repo only through apply) and asks the rest;
 * `allowlist` also allows commands that pass CMD_ALLOWLIST; `ask` asks everything; `deny` rejects
 * everything. Paths are realpath-checked, so a symlink cannot make an outside file look inside.
 */
export function decidePermission(policy: ApprovalPolicyName, subject: PermissionSubject, workspace: string, cmdAllowlist: readonly string[]): PolicyDecision {
  if (policy === 'deny') return 'reject'
  if (policy === 'ask') return 'ask'
  if (EDIT_KINDS.has(subject.kind) && subject.paths.length > 0 && subject.paths.every((path) => editablePath(workspace, path))) return 'allow'
  if (policy === 'allowlist' && subject.kind === 'execute' && subject.command !== null && allowlisted(subject.command, cmdAllowlist)) return 'allow'
  return 'ask'
}

function editablePath(workspace: string, path: string): boolean {
  const absolute = isAbsolute(path) ? path : resolve(workspace, path)
  let real: string
  let root: string
  try {
    root = realpathAllowingMissing(workspace)
    real = realpathAllowingMissing(absolute)
  } catch {
    return false
  }
  if (!isInside(root, real) || real === root) return false
  // git's own files are not workspace content: a hook or config there would run at apply time.
  return !relative(root, real)
    .split('/')
    .some((segment) => segment.toLowerCase() === '.git')
}

function allowlisted(command: string, allowlist: readonly string[]): boolean {
  if (!PLAIN_COMMAND.test(command)) return false
  try {
    const words = splitCommandWords(command)
    // The same rule as /api/cmd (cmdexec's runner): the words equal an entry's, or extend a ` *` one.
    return allowlist.map(parseAllowlistEntry).some((entry) => matchesEntry(words, entry))
  } catch {
    return false
  }
}
