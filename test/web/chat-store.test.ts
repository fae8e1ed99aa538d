/**
 * The page's chat state (src/web/state.ts) without a browser: how the transcript read over HTTP
 * and the live `message` events meet, in the orders a real page sees them arrive.
 */
import { describe, expect, it } from 'bun:test'
import type { ServerEvent } from '../../src/web/events'
import { instructionMessageId, Store, type TranscriptMessage } from '../../src/web/state'

const TASK = 'task-1'
let seq = 0

function message(messageId: string, role: 'agent' | 'user', content: string): ServerEvent {
  return { seq: ++seq, ts: '2026-01-01T00:00:00.000Z', epoch: 'e', type: 'message', taskId: TASK, messageId, role, content }
}

function said(messageId: string, role: 'agent' | 'user', content: string): TranscriptMessage {
  return { messageId, role, content, ts: '2026-01-01T00:00:00.000Z' }
}

/** What the Chat lists, as `role: content` (other items as their kind). */
function lines(store: Store): string[] {
  return store.chat(TASK).map((item) => (item.kind === 'message' ? `${item.role}: ${item.content}` : item.kind))
}

describe('the chat state', () => {
  it('keeps one copy of each message when the transcript comes after its events', () => {
    const store = new Store()
    store.apply(message('m1', 'user', 'do it'), true)
    store.apply(message('m2', 'agent', 'done'), true)
    store.mergeTranscript(TASK, [said('m1', 'user', 'do it'), said('m2', 'agent', 'done')])
    expect(lines(store)).toEqual(['user: do it', 'agent: done'])
  })

  it('puts messages the events no longer had before the ones they did, in transcript order', () => {
    const store = new Store()
    store.apply({ seq: ++seq, ts: 't', epoch: 'e', type: 'status', taskId: TASK, status: 'running' }, false)
    store.apply(message('m3', 'user', 'again'), true)
    store.mergeTranscript(TASK, [said('m1', 'user', 'do it'), said('m2', 'agent', 'done'), said('m3', 'user', 'again')])
    expect(lines(store)).toEqual(['user: do it', 'agent: done', 'note', 'user: again'])
  })

  it('keeps one instruction when the transcript was read before the run echoed it and the echo comes later', () => {
    const store = new Store()
    store.mergeTranscript(TASK, [said(instructionMessageId(TASK), 'user', 'do it')])
    store.apply(message('m1', 'user', 'do it'), true)
    store.apply(message('m2', 'agent', 'done'), true)
    expect(lines(store)).toEqual(['user: do it', 'agent: done'])
    // A follow-up with the same words is a message of its own.
    store.apply(message('m3', 'user', 'do it'), true)
    expect(lines(store)).toEqual(['user: do it', 'agent: done', 'user: do it'])
  })

  it('keeps one instruction when its echo came before a transcript that was read before the run started', () => {
    const store = new Store()
    store.apply(message('m1', 'user', 'do it'), true)
    store.mergeTranscript(TASK, [said(instructionMessageId(TASK), 'user', 'do it')])
    expect(lines(store)).toEqual(['user: do it'])
  })
})
