export { MemorySessionStore } from './store'
export type { Session, SessionStore, SessionCleanup, EndReason, NewSession, Via } from './store'
