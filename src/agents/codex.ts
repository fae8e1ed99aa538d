import type { CliAgentDefinition } from './cli-agent'
import { positionalInstruction } from './command-line'
import { dirFrom } from './credentials'

/**
 * OpenAI Codex non-interactive mode. `codex exec` never asks for approvals; `--sandbox
 * workspace-write` lets it edit its cwd (the task workspace) and run commands in its own sandbox
 * (bubblewrap; writes elsewhere get "Read-only file system", no network). That sandbox also
 * allows /tmp and $TMPDIR by default: excluded, so commands are confined to the workspace.
 * codex 0.17x ignores the OPENAI_BASE_URL variable, so it becomes `-c openai_base_url=…`.
 */
const SANDBOX_ARGS = ['--sandbox', 'workspace-write', '-c', 'sandbox_workspace_write.exclude_slash_tmp=true', '-c', 'sandbox_workspace_write.exclude_tmpdir_env_var=true']

export const codex: CliAgentDefinition = {
  name: 'codex',
  description: 'OpenAI Codex (codex exec), commands sandboxed to the task workspace without network',
  program: 'codex',
  envVars: ['CODEX_API_KEY', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODEX_HOME'],
  args: (instruction) => ['exec', ...SANDBOX_ARGS, ...positionalInstruction(instruction)],
  credentials: {
    env: ['CODEX_API_KEY', 'OPENAI_API_KEY'],
    files: (env) => [`${dirFrom(env, 'CODEX_HOME', '.codex')}/auth.json`],
    hint: 'or log in once with `codex login` as the user running the server (OPENAI_BASE_URL points it at another endpoint)',
  },
  prepare(args, env) {
    const baseUrl = env.OPENAI_BASE_URL
    if (!baseUrl || args[0] !== 'exec') return { args: [...args], env: { ...env } }
    // A TOML basic string: JSON's string escaping is a subset of it.
    return { args: ['exec', '-c', `openai_base_url=${JSON.stringify(baseUrl)}`, ...args.slice(1)], env: { ...env } }
  },
  acp: { program: 'codex-acp', args: [] },
}
