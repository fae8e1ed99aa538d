import type { Config } from '../config'
import type { SessionStore } from '../session'
import { TerminalManager } from './manager'

export type TerminalServices = {
  terminals: TerminalManager
  /** Stops every shell. */
  shutdown(): Promise<void>
}

/** The terminal layer of one server: the shells, ended with their session. */
export function createTerminalServices({ config, sessions }: { config: Config; sessions: SessionStore }): TerminalServices {
  const terminals = new TerminalManager({
    scrollbackBytes: config.ptyScrollbackBytes,
    idleSeconds: config.ptyIdleSeconds,
    maxPerSession: config.ptyMaxPerSession,
    maxTotal: config.ptyMaxTotal,
  })
  sessions.onEnd(async (session) => {
    await terminals.stopSession(session.id)
  })
  return {
    terminals,
    async shutdown() {
      await terminals.shutdown()
    },
  }
}
