import type { CliAgentDefinition } from './cli-agent'
import { dirFrom } from './credentials'

/**
 * Gemini CLI headless mode (`--prompt` forces non-interactive). `auto_edit` approves file edits;
 * headless, it does not offer the shell tool at all. A fresh task workspace is an untrusted
 * folder, where gemini 0.61 silently drops to the `default` approval mode and then refuses every
 * edit while still exiting 0: `--skip-trust` (and GEMINI_CLI_TRUST_WORKSPACE for versions that
 * read only the variable) keeps `auto_edit`. YOLO (`--approval-mode yolo`) would also run shell
 * commands: opt in with AGENT_GEMINI_CMD.
 */
export const gemini: CliAgentDefinition = {
  name: 'gemini',
  description: 'Gemini CLI (gemini --prompt), file edits approved automatically, no shell',
  program: 'gemini',
  envVars: [
    'GEMINI_API_KEY',
    'GOOGLE_API_KEY',
    'GOOGLE_CLOUD_PROJECT',
    'GOOGLE_CLOUD_LOCATION',
    'GOOGLE_GENAI_USE_VERTEXAI',
    'GOOGLE_GENAI_USE_GCA',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'GOOGLE_GEMINI_BASE_URL',
    'GOOGLE_VERTEX_BASE_URL',
    'GEMINI_MODEL',
    'GEMINI_CLI_HOME',
  ],
  args: (instruction) => ['--approval-mode', 'auto_edit', '--skip-trust', `--prompt=${instruction}`],
  credentials: {
    env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_USE_VERTEXAI'],
    files: (env) => [`${dirFrom(env, 'GEMINI_CLI_HOME', '')}/.gemini/oauth_creds.json`],
    hint: 'or log in once with `gemini` as the user running the server (GOOGLE_GEMINI_BASE_URL points it at another endpoint)',
  },
  prepare: (args, env) => ({ args: [...args], env: { ...env, GEMINI_CLI_TRUST_WORKSPACE: 'true' } }),
  acp: { program: 'gemini', args: ['--acp'] },
}
