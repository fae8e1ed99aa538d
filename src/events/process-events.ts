import { Type } from '@sinclair/typebox'
import { defineEvent } from './define'

/**
 * What a process started for a session prints and how it ends: commands (cmdexec/) and task
 * agents (tasks/) both emit these, through OutputStreamer for `output`. Exactly one of taskId
 * and cmdId is set.
 */
const source = {
  taskId: Type.Optional(Type.String({ description: 'Set when a task agent printed it' })),
  cmdId: Type.Optional(Type.String({ description: 'Set when a command printed it' })),
}

export const OutputEvent = defineEvent('output', { ...source, data: Type.String({ description: 'Output text, coalesced, at most 16384 UTF-16 units' }) }, "A process's output")

export const ExitEvent = defineEvent(
  'exit',
  {
    ...source,
    code: Type.Union([Type.Integer(), Type.Null()], { description: 'Exit code; null when a signal ended it' }),
    durationMs: Type.Number({ minimum: 0 }),
  },
  'A process ended',
)
