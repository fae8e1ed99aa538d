import type { Config } from '../config'
import type { Logger } from '../logger'
import type { SessionStore } from '../session'
import { TerminalManager, type TerminalManagerOptions } from './manager'

export type TerminalServices = {
  terminals: TerminalManager
  /** Stops every shell. */
  shutdown(): Promise<void>
}

/** The terminal layer of one server: the shells, ended with their session. */
type TerminalServicesDeps = { config: Config; sessions: SessionStore; logger: Logger; overrides?: Partial<TerminalManagerOptions> }

export function createTerminalServices({ config, sessions, logger, overrides }: TerminalServicesDeps): TerminalServices {
  const terminals = new TerminalManager({
    scrollbackBytes: config.ptyScrollbackBytes,
    idleSeconds: config.ptyIdleSeconds,
    maxPerSession: config.ptyMaxPerSession,
    maxTotal: config.ptyMaxTotal,
    environment: config.environment,
    logger,
    ...overrides,
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
