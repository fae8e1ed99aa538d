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

/**
 * codex-acp's session presets (read-only, auto, full-access) all let codex run commands without
 * asking (sandboxed, or not at all in full-access): `untrusted` makes every command but codex's
 * known read-only ones (ls, cat, rg, git status…) a session/request_permission, and every patch
 * too, so APPROVAL_POLICY decides edits. An approved command runs as the server's user, as with
 * claude-agent-acp: codex's sandbox needs `bwrap` on PATH, which the codex-acp 0.16 package does
 * not bundle (without it every command fails). AGENT_CODEX_ACP_CMD='codex-acp -c
 * sandbox_mode="workspace-write"' confines approved commands too, where bubblewrap is installed.
 */
const ACP_ARGS = ['-c', 'approval_policy="untrusted"', '-c', 'sandbox_mode="danger-full-access"']

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
  prepare(args, env, mode) {
    const baseUrl = env.OPENAI_BASE_URL
    // A TOML basic string: JSON's string escaping is a subset of it.
    const endpoint = baseUrl ? ['-c', `openai_base_url=${JSON.stringify(baseUrl)}`] : []
    // Before the entry point's own arguments: a later `-c` of AGENT_CODEX_ACP_CMD wins.
    if (mode === 'acp') return { args: [...ACP_ARGS, ...endpoint, ...args], env: { ...env } }
    if (endpoint.length === 0 || args[0] !== 'exec') return { args: [...args], env: { ...env } }
    return { args: ['exec', ...endpoint, ...args.slice(1)], env: { ...env } }
  },
  acp: {
    program: 'codex-acp',
    args: [],
    auto: true,
    description: 'OpenAI Codex over ACP (codex-acp), every command except read-only ones asks for approval; edits by APPROVAL_POLICY',
  },
  // codex-acp 0.16 answers session/new with "Authentication required" until `authenticate` names
  // the key variable (its methods: chatgpt, codex-api-key, openai-api-key). With neither key set,
  // its own login (CODEX_HOME/auth.json) is used.
  acpAuthMethod(env, offered) {
    const method = (env.CODEX_API_KEY ?? '') !== '' ? 'codex-api-key' : (env.OPENAI_API_KEY ?? '') !== '' ? 'openai-api-key' : null
    return method !== null && offered.includes(method) ? method : null
  },
}
