import type { Session } from '../session'
import type { Terminal } from '../pty'

/**
 * What the WebSocket layer needs from the tasks layer (TaskService has this shape): a task's
 * agent terminal to watch, and the chat path of the events socket. Declared here, by its user, so
 * tasks/ never imports the socket layer.
 */
export interface TaskTerminals {
  terminalFor(sessionId: string, taskId: string): Terminal | undefined
  /** Types into the running task's agent, or starts a task with DEFAULT_AGENT when none runs. */
  sendUserMessage(session: Session, content: string): Promise<{ taskId: string; started: boolean }>
}
