import { ConfigError } from '../config'
import { launchFromCommandLine, parseAgentCommandLine } from './command-line'
import { missingCredentials, type Credentials } from './credentials'
import type { AcpEntryPoint, Agent, AgentMode, AgentPrompt, AgentRequest, PreparedRun } from './types'

type Env = Readonly<Record<string, string>>

/** One CLI agent: its name, what it is, its program and the argv that runs one instruction unattended. */
export type CliAgentDefinition = {
  name: string
  description: string
  program: string
  /** Server environment variables passed through to this agent (see Agent.envVars). */
  envVars: readonly string[]
  /** Arguments after the program; the instruction must be one of them (never parsed by a shell). */
  args(instruction: string): string[]
  /** What it needs to reach a model; checked before it starts (see credentials.ts). */
  credentials: Credentials
  /**
   * The argv and environment it finally runs with in `mode`, from the child environment and the
   * mode's argv (print mode's `args`, or the ACP entry point's): endpoints given as variables
   * that the CLI only takes as flags, and the settings that keep each mode safe.
   */
  prepare?(args: readonly string[], env: Env, mode: AgentMode): { args: string[]; env: Record<string, string> }
  /** Its Agent Client Protocol entry point, as verified against the pinned version. */
  acp?: AcpEntryPoint
  /** See Agent.acpAuthMethod. */
  acpAuthMethod?(env: Env, offered: readonly string[]): string | null
  /** See Agent.failureHint. */
  failureHint?(environment: Readonly<Record<string, string | undefined>>): string | null
  /** See Agent.detectFailure; it applies to an AGENT_<NAME>_CMD override too (the safety net). */
  detectFailure?(line: string): string | null
  /** See Agent.firstOutputTimeout; it applies to an AGENT_<NAME>_CMD override too. */
  firstOutputTimeout?: { ms: number; hint: string }
  detectPrompt?(outputTail: string): AgentPrompt | null
  answer?(prompt: AgentPrompt, reply: string): string
}

function prepareRun(definition: CliAgentDefinition, env: Env, args: readonly string[], mode: AgentMode): PreparedRun {
  const missing = missingCredentials(definition.name, definition.credentials, env)
  if (missing !== null) return { error: missing }
  return definition.prepare ? definition.prepare(args, env, mode) : { args: [...args], env: { ...env } }
}

/**
 * Builds an Agent from a definition and the optional AGENT_<NAME>_CMD override. A broken override
 * is a start-up error (ConfigError naming the variable), not a task that fails later. An override
 * is run as written in print mode: neither the credential check nor the adapter's flags apply to
 * it. Its ACP entry point is still the adapter's, so acp mode keeps the adapter's preparation
 * (AGENT_<NAME>_ACP_CMD replaces only that command line: the safety settings travel in the
 * environment, which the operator's command line does not carry).
 */
export function createCliAgent(definition: CliAgentDefinition, override?: string): Agent {
  const shared = {
    name: definition.name,
    envVars: definition.envVars,
    ...(definition.acp ? { acp: definition.acp } : {}),
    ...(definition.acpAuthMethod ? { acpAuthMethod: definition.acpAuthMethod } : {}),
    ...(definition.failureHint ? { failureHint: definition.failureHint } : {}),
    ...(definition.detectFailure ? { detectFailure: definition.detectFailure } : {}),
    ...(definition.firstOutputTimeout ? { firstOutputTimeout: definition.firstOutputTimeout } : {}),
  }
  if (override === undefined) {
    return {
      ...shared,
      description: definition.description,
      program: definition.program,
      launch: ({ instruction }: AgentRequest) => ({ file: definition.program, args: definition.args(instruction) }),
      prepareRun: (env, args, mode) => prepareRun(definition, env, args, mode),
      ...(definition.detectPrompt ? { detectPrompt: definition.detectPrompt } : {}),
      ...(definition.answer ? { answer: definition.answer } : {}),
    }
  }
  let program: string
  try {
    program = parseAgentCommandLine(override)[0]!
  } catch (error) {
    throw new ConfigError(`AGENT_${definition.name.toUpperCase()}_CMD: ${(error as Error).message}`)
  }
  return {
    ...shared,
    // The operator's own command line is what auto mode runs (ACP only with AGENT_<NAME>_MODE=acp).
    ...(definition.acp ? { acp: { ...definition.acp, auto: false } } : {}),
    description: `${definition.description} (command line from AGENT_${definition.name.toUpperCase()}_CMD)`,
    program,
    launch: ({ instruction }: AgentRequest) => launchFromCommandLine(override, instruction),
    prepareRun: (env, args, mode) => (mode === 'acp' ? prepareRun(definition, env, args, mode) : { args: [...args], env: { ...env } }),
  }
}
