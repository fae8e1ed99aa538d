import type * as acp from '@agentclientprotocol/sdk'
import type { ApprovalTool, PermissionOption } from './conversation-events'

const MAX_TEXT = 2000

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text
}

/**
 * The command a tool call would run, from what agents put in `rawInput`: Claude Code's Bash tool
 * sends `{command: "npm test"}`, codex `{command: ["bash", "-lc", "npm test"]}`, cline
 * `{commands: ["npm test"]}`; without one, an execute call's title is its command line (backticks
 * stripped, as claude-agent-acp quotes it).
 */
export function commandOf(toolCall: acp.ToolCallUpdate): string | null {
  const raw = toolCall.rawInput
  const command = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).command : undefined
  if (typeof command === 'string' && command.trim() !== '') return clip(command)
  // cline's run_commands: `{commands: ["npm test", …]}`, each run on its own.
  const commands = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).commands : undefined
  if (Array.isArray(commands) && commands.length > 0 && commands.every((one) => typeof one === 'string')) return clip(commands.join('; '))
  if (Array.isArray(command) && command.every((word) => typeof word === 'string') && command.length > 0) {
    const words = command as string[]
    // A shell wrapper's script is the command a person recognises.
    if (words.length === 3 && /(^|\/)(ba|z|da)?sh$/.test(words[0]!) && /^-l?c$/.test(words[1]!)) return clip(words[2]!)
    return clip(words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`)).join(' '))
  }
  if (toolCall.kind === 'execute' && toolCall.title) return clip(toolCall.title.replace(/^`(.*)`$/s, '$1'))
  return null
}

/** The files a tool call touches: its locations, or a path field of its input. */
export function pathsOf(toolCall: acp.ToolCallUpdate, cwd: string): string[] {
  const fromLocations = (toolCall.locations ?? []).map((location) => location.path)
  if (fromLocations.length > 0) return fromLocations.slice(0, 100)
  const raw = toolCall.rawInput
  if (!raw || typeof raw !== 'object') return []
  const input = raw as Record<string, unknown>
  for (const key of ['file_path', 'filePath', 'path', 'abs_path']) {
    const value = input[key]
    if (typeof value === 'string' && value !== '') return [value.startsWith('/') ? value : `${cwd}/${value}`]
  }
  return []
}

/** The approval's `tool` and the sentence a person decides on (`claude wants to run: npm test`). */
export function describePermission(agent: string, toolCall: acp.ToolCallUpdate, cwd: string): { tool: ApprovalTool; content: string } {
  const kind = toolCall.kind ?? 'other'
  const command = commandOf(toolCall)
  const paths = pathsOf(toolCall, cwd)
  const title = clip(toolCall.title ?? command ?? kind)
  const tool: ApprovalTool = { title, kind, ...(command !== null ? { command } : {}), ...(paths.length > 0 ? { paths } : {}) }
  const shown = (path: string) => (path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path)
  let content: string
  if (command !== null && kind === 'execute') content = `${agent} wants to run: ${command}`
  else if (paths.length > 0 && (kind === 'edit' || kind === 'delete' || kind === 'move')) content = `${agent} wants to ${kind}: ${paths.map(shown).join(', ')}`
  else content = `${agent} wants to: ${title}`
  return { tool, content }
}

/** The agent's options as the contract shows them (unknown kinds are left out). */
export function optionsOf(options: readonly acp.PermissionOption[]): PermissionOption[] {
  return options
    .filter((option) => ['allow_once', 'allow_always', 'reject_once', 'reject_always'].includes(option.kind))
    .map((option) => ({ optionId: option.optionId, name: option.name, kind: option.kind }))
}
