/**
 * The ACP client's error, apart from the client itself: the task layer tests for it without
 * loading the protocol library, which loads with the first ACP agent (connection.ts).
 */

/** Something went wrong with the agent; the message names the agent and what happened. */
export class AcpAgentError extends Error {}
