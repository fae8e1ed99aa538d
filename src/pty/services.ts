import type { Config } from '../config'
import type { SessionStore } from '../session'
import { SessionSockets } from './client-socket'
import { TerminalManager } from './manager'

export type TerminalServices = {
  terminals: TerminalManager
  sockets: SessionSockets
  /** Closes every socket (1001) and stops every shell. */
  shutdown(): Promise<void>
}

/**
 * The terminal layer of one server: the shells and the open WebSockets, both ended with their
 * session. Sockets close first (4410 "session ended"), so clients see why before the shell's
 * hang-up would send them an `exit` frame.
 */
export function createTerminalServices({ config, sessions }: { config: Config; sessions: SessionStore }): TerminalServices {
  const terminals = new TerminalManager({
    scrollbackBytes: config.ptyScrollbackBytes,
    idleSeconds: config.ptyIdleSeconds,
    maxPerSession: config.ptyMaxPerSession,
    maxTotal: config.ptyMaxTotal,
  })
  const sockets = new SessionSockets((sessionId) => sessions.get(sessionId) !== undefined)
  sessions.onEnd(async (session, reason) => {
    sockets.closeSession(session.id, reason)
    await terminals.stopSession(session.id)
  })
  return {
    terminals,
    sockets,
    async shutdown() {
      sockets.closeAll()
      await terminals.shutdown()
    },
  }
}
