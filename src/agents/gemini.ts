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
/**
 * What gemini 0.61 prints when it ran in a folder it does not trust: on a terminal it drops to the
 * `default` approval mode, removes its edit tools (the model's write_file then fails with
 * `Tool "write_file" not found`) and still exits 0; without one it exits 55 saying it is "not
 * running in a trusted directory". Either way the task did nothing.
 */
const UNTRUSTED = /Approval mode overridden to "default" because the current folder is not trusted|Tool "(write_file|replace)" not found|not running in a trusted directory/

export function untrustedFolderFailure(line: string): string | null {
  const match = UNTRUSTED.exec(line)
  if (match === null) return null
  return (
    `gemini did not work in the task's workspace: it treated the folder as untrusted, which turns off its file edits ("${line.trim().slice(0, 200)}"). ` +
    'Run it with --skip-trust (the built-in command line does: check AGENT_GEMINI_CMD) or GEMINI_CLI_TRUST_WORKSPACE=true.'
  )
}

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
  detectFailure: untrustedFolderFailure,
  prepare: (args, env) => ({ args: [...args], env: { ...env, GEMINI_CLI_TRUST_WORKSPACE: 'true' } }),
  // Proven with 0.61.0 against the scripted Gemini API (test/agents-real/gemini-acp.test.ts): every
  // shell command comes as session/request_permission and runs only when allowed.
  acp: {
    program: 'gemini',
    args: ['--acp'],
    auto: true,
    description: 'Gemini CLI over ACP (gemini --acp), shell commands and file writes ask for approval; edits by APPROVAL_POLICY',
  },
}
