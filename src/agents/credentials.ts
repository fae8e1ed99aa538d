import { existsSync } from 'node:fs'
import { join } from 'node:path'

type Env = Readonly<Record<string, string>>

/**
 * How an agent CLI finds its credentials: a key variable, or a login it stored under the user's
 * home. Checked before the CLI starts because, without them, the CLIs do not fail in a way a
 * phone user can act on: claude says "Not logged in · Please run /login" after ~9 s, codex and
 * cline retry or wait forever, opencode silently uses a free hosted model.
 */
export type Credentials = {
  /** Any one of these variables, non-empty, is enough. */
  env: readonly string[]
  /** Files a login of the CLI's own leaves (any one is enough), from the child environment. */
  files?: (env: Env) => string[]
  /** What to tell the user, after "set one of …". */
  hint: string
}

export function homeOf(env: Env): string {
  return env.HOME ?? '/'
}

/** The variable's value, or `fallback` joined under HOME when it is unset. */
export function dirFrom(env: Env, variable: string, ...fallback: string[]): string {
  return env[variable] || join(homeOf(env), ...fallback)
}

/** null when the agent can authenticate; else the sentence for the task's `error`. */
export function missingCredentials(agentName: string, credentials: Credentials, env: Env): string | null {
  if (credentials.env.some((name) => (env[name] ?? '') !== '')) return null
  if ((credentials.files?.(env) ?? []).some((file) => existsSync(file))) return null
  return `Agent ${agentName} has no credentials: set one of ${credentials.env.join(', ')} in the server's environment${credentials.hint ? `, ${credentials.hint}` : ''}, then start the task again.`
}
