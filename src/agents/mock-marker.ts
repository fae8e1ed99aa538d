/**
 * The argv words that make the server's executable run as the mock agent. A leaf module: main.ts
 * reads it before deciding which mode to load, so neither mode pays for the other's modules.
 */

/** The argv word that makes the server's executable run as the mock agent instead of serving. */
export const MOCK_AGENT_MARKER = '__mock-agent'
/** After the marker: speak ACP on stdio instead of printing to a terminal. */
export const MOCK_ACP_FLAG = '--acp'
