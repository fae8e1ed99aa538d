import type * as acp from '@agentclientprotocol/sdk'
import type { EventDefinition, EventFields } from '../events'
import { BadRequestError, ConflictError, NotFoundError } from '../errors'
import { decidePermission, type ApprovalPolicyName } from '../policy/approvals'
import { describePermission, optionsOf } from './approval-subject'
import { ConfirmationEvent, ConfirmationResolvedEvent, type ApprovalOutcome, type ApprovalResolver, type PermissionOption } from './conversation-events'
import type { ApprovalRecord, ApprovalStore } from './conversation-store'

export type ApprovalsOptions = {
  store: ApprovalStore
  policy: ApprovalPolicyName
  timeoutMs: number
  cmdAllowlist: readonly string[]
  /** Publishes on a session's bus (a no-op once the session has ended). */
  publish: <D extends EventDefinition>(sessionId: string, definition: D, fields: EventFields<D>) => void
  /** Approvals waiting at once per session; past it the server rejects (an agent cannot pile them up). */
  maxPendingPerSession?: number
}

/** Who asks: the task, its agent's name and workspace (for the `edits` policy). */
export type ApprovalContext = { sessionId: string; taskId: string; agent: string; workspace: string }

export type ApprovalAnswer = { confirmed: boolean; optionId?: string }

type Pending = { record: ApprovalRecord; sessionId: string; settle: (outcome: acp.RequestPermissionOutcome) => void; timer: ReturnType<typeof setTimeout> }

const STATUS_WORD: Record<ApprovalOutcome, string> = { allowed: 'allowed', rejected: 'rejected', expired: 'expired unanswered', cancelled: 'cancelled' }

/**
 * Permission requests of ACP agents: decided by APPROVAL_POLICY or asked of the session's clients,
 * first answer wins. Every request is a `confirmation` event and ends with one
 * `confirmation_resolved` (by client, policy, timeout or cancel), so the conversation shows what
 * was done in the user's name. Pending ones live on the bus's replay, so a client that reconnects
 * with resumeSeq still sees them and can answer.
 */
export class Approvals {
  private readonly pending = new Map<string, Pending>()

  /** Approvals still pending in the store come from an earlier process: nobody waits on them now. */
  constructor(private readonly options: ApprovalsOptions) {
    for (const stale of options.store.listPending()) {
      options.store.update(stale.messageId, { status: 'cancelled', outcome: 'cancelled', resolvedAt: new Date().toISOString(), by: 'cancel' })
    }
  }

  /** Settles with the outcome the agent is sent; `onPendingChange` sees the task's pending count. */
  request(context: ApprovalContext, request: acp.RequestPermissionRequest, onPendingChange: (count: number) => void): Promise<acp.RequestPermissionOutcome> {
    const { tool, content } = describePermission(context.agent, request.toolCall, context.workspace)
    const options = optionsOf(request.options)
    const now = Date.now()
    const record: ApprovalRecord = {
      messageId: `approval-${crypto.randomUUID()}`,
      taskId: context.taskId,
      content,
      tool,
      options,
      status: 'pending',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.options.timeoutMs).toISOString(),
      resolvedAt: null,
      outcome: null,
      optionId: null,
      by: null,
    }
    const paths = tool.paths ?? []
    let decision = decidePermission(this.options.policy, { kind: tool.kind, command: tool.command ?? null, paths }, context.workspace, this.options.cmdAllowlist)
    if (decision === 'ask' && this.pendingIn(context.sessionId) >= (this.options.maxPendingPerSession ?? 100)) decision = 'reject'
    this.options.store.insert(record)
    this.publishAsked(context.sessionId, record)
    if (decision !== 'ask') {
      const choice = this.choose(options, decision === 'allow')
      this.resolve(context.sessionId, record, choice.outcome, choice.optionId, 'policy')
      return Promise.resolve(choice.reply)
    }
    return new Promise((settle) => {
      const timer = setTimeout(() => this.expire(record.messageId), this.options.timeoutMs)
      this.pending.set(record.messageId, {
        record,
        sessionId: context.sessionId,
        timer,
        settle: (outcome) => {
          settle(outcome)
          onPendingChange(this.pendingFor(context.taskId))
        },
      })
      onPendingChange(this.pendingFor(context.taskId))
    })
  }

  /**
   * A client's answer. `confirmed` without `optionId` is the agent's allow_once (or reject_once)
   * option. Unknown id, or another session's: 404; already resolved: 409 saying how.
   */
  answer(owns: (taskId: string) => boolean, messageId: string, answer: ApprovalAnswer, taskId?: string): { messageId: string; outcome: ApprovalOutcome } {
    const record = this.options.store.get(messageId)
    if (!record || !owns(record.taskId) || (taskId !== undefined && record.taskId !== taskId)) {
      throw new NotFoundError(`No approval ${messageId} in this session.`, 'approval_not_found')
    }
    const live = this.pending.get(messageId)
    if (record.status !== 'pending' || !live) {
      const how = record.status === 'pending' ? 'is no longer waited on (the agent stopped)' : `was already ${STATUS_WORD[record.status]} by ${record.by}`
      throw new ConflictError(`Approval ${messageId} ${how}.`, 'approval_resolved')
    }
    let choice: { outcome: ApprovalOutcome; optionId: string | undefined; reply: acp.RequestPermissionOutcome }
    if (answer.optionId !== undefined) {
      const option = record.options.find((candidate) => candidate.optionId === answer.optionId)
      if (!option) {
        throw new BadRequestError(`Approval ${messageId} has no option "${answer.optionId}"; choose one of ${record.options.map((o) => o.optionId).join(', ')}.`, 'invalid_option')
      }
      const allowed = option.kind.startsWith('allow')
      choice = { outcome: allowed ? 'allowed' : 'rejected', optionId: option.optionId, reply: { outcome: 'selected', optionId: option.optionId } }
    } else {
      choice = this.choose(record.options, answer.confirmed)
    }
    this.settle(live, choice.outcome, choice.optionId, 'client', choice.reply)
    return { messageId, outcome: choice.outcome }
  }

  /** Cancel or session end: every pending approval of the task resolves as cancelled. */
  cancelTask(taskId: string): void {
    for (const live of [...this.pending.values()]) {
      if (live.record.taskId === taskId) this.settle(live, 'cancelled', undefined, 'cancel', { outcome: 'cancelled' })
    }
  }

  list(taskId: string): ApprovalRecord[] {
    return this.options.store.list(taskId)
  }

  pendingFor(taskId: string): number {
    let count = 0
    for (const live of this.pending.values()) if (live.record.taskId === taskId) count++
    return count
  }

  private pendingIn(sessionId: string): number {
    let count = 0
    for (const live of this.pending.values()) if (live.sessionId === sessionId) count++
    return count
  }

  private expire(messageId: string): void {
    const live = this.pending.get(messageId)
    if (!live) return
    const choice = this.choose(live.record.options, false)
    this.settle(live, 'expired', choice.optionId, 'timeout', choice.reply)
  }

  /** The agent's option for a plain yes or no: allow_once (else allow_always), reject_once (else reject_always). */
  private choose(options: readonly PermissionOption[], allow: boolean): { outcome: ApprovalOutcome; optionId: string | undefined; reply: acp.RequestPermissionOutcome } {
    const kinds = allow ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always']
    const option = kinds.map((kind) => options.find((candidate) => candidate.kind === kind)).find((found) => found !== undefined)
    // Without a fitting option the only honest answer ACP has is `cancelled`: the agent does not do it.
    if (!option) return { outcome: allow ? 'cancelled' : 'rejected', optionId: undefined, reply: { outcome: 'cancelled' } }
    return { outcome: allow ? 'allowed' : 'rejected', optionId: option.optionId, reply: { outcome: 'selected', optionId: option.optionId } }
  }

  private settle(live: Pending, outcome: ApprovalOutcome, optionId: string | undefined, by: ApprovalResolver, reply: acp.RequestPermissionOutcome): void {
    if (!this.pending.delete(live.record.messageId)) return
    clearTimeout(live.timer)
    this.resolve(live.sessionId, live.record, outcome, optionId, by)
    live.settle(reply)
  }

  private resolve(sessionId: string, record: ApprovalRecord, outcome: ApprovalOutcome, optionId: string | undefined, by: ApprovalResolver): void {
    this.options.store.update(record.messageId, { status: outcome, outcome, resolvedAt: new Date().toISOString(), optionId: optionId ?? null, by })
    this.options.publish(sessionId, ConfirmationResolvedEvent, {
      taskId: record.taskId,
      messageId: record.messageId,
      outcome,
      ...(optionId !== undefined ? { optionId } : {}),
      by,
    })
  }

  private publishAsked(sessionId: string, record: ApprovalRecord): void {
    this.options.publish(sessionId, ConfirmationEvent, {
      taskId: record.taskId,
      messageId: record.messageId,
      content: record.content,
      tool: record.tool,
      options: record.options,
      expiresAt: record.expiresAt ?? record.createdAt,
    })
  }
}
