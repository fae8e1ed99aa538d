/**
 * The environment every child process gets (commands, terminals, agents): built from an
 * allowlist of harmless variables, so the server's secrets (JWT_SECRET, PAIRING_TOKEN, cloud
 * credentials) and anything a caller might try to inject never reach a child.
 */
const INHERITED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM', 'COLORTERM', 'EDITOR', 'VISUAL'])

const NEVER = new Set(['JWT_SECRET', 'PAIRING_TOKEN'])

export function buildChildEnv(
  parent: Readonly<Record<string, string | undefined>>,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue
    if (INHERITED.has(key) || key.startsWith('LC_')) env[key] = value
  }
  for (const [key, value] of Object.entries(extra)) {
    if (!NEVER.has(key)) env[key] = value
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin'
  return env
}
