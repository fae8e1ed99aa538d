export { MemorySessionStore } from './store'
export type { Session, SessionStore, SessionPersistence, SessionCleanup, EndReason, NewSession, Via } from './store'
