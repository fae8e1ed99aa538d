import { Type } from '@sinclair/typebox'
import { defineEvent } from '../events'
import { TaskPhaseSchema, TaskStatusSchema } from './types'

/** The events the tasks layer emits (agent output and exit are events/process-events.ts). */
export const TaskStatusEvent = defineEvent(
  'status',
  { taskId: Type.String(), status: TaskStatusSchema, phase: Type.Optional(TaskPhaseSchema) },
  "A task's status or phase changed",
)

export const TaskPatchEvent = defineEvent('patch', { taskId: Type.String(), count: Type.Integer({ minimum: 0 }) }, "A task's patches are ready to review")

export const TaskErrorEvent = defineEvent(
  'error',
  { message: Type.String({ description: 'What went wrong, a sentence a person can act on' }), taskId: Type.Optional(Type.String()) },
  'A task failed; the message says why',
)
