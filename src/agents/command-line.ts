import { splitCommandWords } from '../policy/commands'
import type { AgentLaunch } from './types'

/** Where a configured command line wants the instruction; without it the instruction is appended. */
export const INSTRUCTION_PLACEHOLDER = '{instruction}'

/**
 * The instruction as the last positional argument. One that starts with `-` would be read as an
 * option by every CLI parser, so it goes after `--`, which all the adapted CLIs honour.
 */
export function positionalInstruction(instruction: string): string[] {
  return instruction.startsWith('-') ? ['--', instruction] : [instruction]
}

/**
 * Turns a configured command line (AGENT_<NAME>_CMD) into argv: split into words like a POSIX
 * shell would (quotes honoured, never run through one); every `{instruction}` inside a word is
 * replaced by the instruction, and when no word has the placeholder the instruction is appended
 * as the last argument (after `--` when it starts with `-`).
 */
export function launchFromCommandLine(commandLine: string, instruction: string): AgentLaunch {
  const words = parseAgentCommandLine(commandLine)
  const hasPlaceholder = words.some((word) => word.includes(INSTRUCTION_PLACEHOLDER))
  // Appended, the instruction is a positional argument like in the built-in adapters: one that
  // starts with "-" goes after "--", or `--dangerously-skip-permissions` typed as an instruction
  // would become an option of the agent.
  const argv = hasPlaceholder ? words.map((word) => word.replaceAll(INSTRUCTION_PLACEHOLDER, instruction)) : [...words, ...positionalInstruction(instruction)]
  return { file: argv[0]!, args: argv.slice(1) }
}

/** Splits and checks a configured command line; throws an Error naming the problem. */
export function parseAgentCommandLine(commandLine: string): string[] {
  const words = splitCommandWords(commandLine)
  if (words.length === 0) throw new Error('the command line is empty')
  if (words[0]!.includes(INSTRUCTION_PLACEHOLDER)) throw new Error('the program itself cannot be the {instruction} placeholder')
  return words
}
