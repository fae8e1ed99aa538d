import type { Session } from '../session'
import type { Terminal } from './terminal'

export { Terminal, checkTerminalSize, MAX_TERMINAL_SIZE } from './terminal'
export type { TerminalOptions, TerminalExit, DataListener, ExitListener } from './terminal'
export { TerminalManager, defaultShell } from './manager'
export type { TerminalManagerOptions, TerminalViewer } from './manager'
export { Scrollback, utf8Tail } from './scrollback'
export { ClientSocket, SessionSockets, CLOSE, DEFAULT_MAX_QUEUED_BYTES } from './client-socket'
export type { ClientSocketOptions, RawSocket } from './client-socket'
export { PtyConnection, exitFrame, readPtyFrame, DEFAULT_PTY_FLOW } from './pty-connection'
export type { PtyFlowOptions } from './pty-connection'
export { EventsConnection } from './events-connection'
export { EventsFanout, eventText } from './events-fanout'
export type { TopicSocket } from './events-fanout'

/**
 * What the WebSocket layer needs from the tasks layer (implemented by TaskService): a task's
 * agent terminal to watch, and the chat path of the events socket.
 */
export interface TaskTerminals {
  terminalFor(sessionId: string, taskId: string): Terminal | undefined
  /** Types into the running task's agent, or starts a task with DEFAULT_AGENT when none runs. */
  sendUserMessage(session: Session, content: string): Promise<{ taskId: string; started: boolean }>
}
export { createTerminalServices } from './services'
export type { TerminalServices } from './services'
