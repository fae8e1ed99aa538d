import type { Session } from '../session'
import type { Terminal } from '../pty'

/**
 * What the WebSocket layer needs from the tasks layer (TaskService has this shape): a task's
 * agent terminal to watch, and the chat path of the events socket (follow-ups and answers to
 * approvals). Declared here, by its user, so tasks/ never imports the socket layer.
 */
export interface TaskTerminals {
  terminalFor(sessionId: string, taskId: string): Terminal | undefined
  /** A follow-up to `taskId` or the newest conversation; a new task with DEFAULT_AGENT when there is none. */
  sendUserMessage(session: Session, content: string, taskId?: string): Promise<{ taskId: string; started: boolean; queued: boolean }>
  /** Answers a pending approval of the session; throws NotFound/Conflict/BadRequest errors. */
  answerApproval(session: Session, messageId: string, answer: { confirmed: boolean; optionId?: string }): { messageId: string; outcome: string }
}
