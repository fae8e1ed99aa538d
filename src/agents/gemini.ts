import type { CliAgentDefinition } from './cli-agent'

/**
 * Gemini CLI headless mode (`--prompt` forces non-interactive). `auto_edit` approves file edits;
 * other tools that need an approval are not offered in headless mode instead of blocking. YOLO
 * (`--approval-mode yolo`) would also run shell commands: opt in with AGENT_GEMINI_CMD.
 */
export const gemini: CliAgentDefinition = {
  name: 'gemini',
  description: 'Gemini CLI (gemini --prompt), file edits approved automatically',
  program: 'gemini',
  envVars: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION', 'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_APPLICATION_CREDENTIALS'],
  args: (instruction) => ['--approval-mode', 'auto_edit', `--prompt=${instruction}`],
}
