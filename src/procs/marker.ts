import { descendantsOf, environOf, isLive, readProcTable } from './proc-table'

/**
 * Every child the server starts (command, terminal, agent) carries its session and its server in
 * its environment. Children inherit it, so a process that left its group and session (setsid, a
 * daemonising dev server) still says whose it is, and ending the session can find it.
 */
export const SESSION_ENV = 'COCKPIT_SESSION'
/** The server's pid: two servers (one run from the other's terminal, say) never end each other's children. */
export const SERVER_ENV = 'COCKPIT_SERVER'

export function sessionMarkerEnv(sessionId: string, serverPid = process.pid): Record<string, string> {
  return { [SESSION_ENV]: sessionId, [SERVER_ENV]: String(serverPid) }
}

/** Whose processes: one session's, or (at shutdown) every session's of this server. */
export type MarkedProcesses = { sessionId: string } | { allSessions: true }

/**
 * Live descendants of the server whose environment carries the marker. Only descendants: an
 * unrelated process that copies a session's marker into its environment is not ours to kill.
 * A process that escaped with setsid stays a descendant because the server is a child subreaper
 * (subreaper.ts); without that (not Linux, or prctl refused) it is re-parented to init and out of
 * reach, as it was before.
 */
export function markedDescendants(which: MarkedProcesses, serverPid = process.pid): number[] {
  const table = readProcTable()
  if (!table) return []
  const server = `${SERVER_ENV}=${serverPid}`
  const session = 'sessionId' in which ? `${SESSION_ENV}=${which.sessionId}` : null
  const marked: number[] = []
  for (const row of descendantsOf(serverPid, table)) {
    if (!isLive(row)) continue
    const env = environOf(row.pid)
    if (!env || !env.includes(server)) continue
    if (session === null ? env.some((entry) => entry.startsWith(`${SESSION_ENV}=`)) : env.includes(session)) marked.push(row.pid)
  }
  return marked
}
