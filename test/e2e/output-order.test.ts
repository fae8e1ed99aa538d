/**
 * A client that stops listening at a task's final status has all of its output: every `output`
 * event of the run comes before the `status` that ends it (print mode) or ends its turn (ACP),
 * seen through /ws/events of the compiled binary. Output is coalesced for 50 ms, so a last line
 * written just before the end used to be published after it.
 */
import { describe, expect, it } from 'bun:test'
import { conversationServer, type Frame } from './conversation-client'

const mockTask = { agent: 'mock', instruction: 'write notes', context: { mock: { delayMs: 0, edits: [{ file: 'NOTES.md', content: 'notes\n' }] } } }

function outputText(frames: Frame[]): string {
  return frames.map((f) => String(f.data)).join('')
}

describe('the last output of a task and its final status', () => {
  it('print mode: the mock\'s last line is published before exit and completed', async () => {
    await using s = await conversationServer({ AGENT_MOCK_MODE: 'print' })
    const taskId = await s.start(mockTask)
    const completed = await s.status(taskId, 'completed')
    // The line is awaited (not just looked for), so a late one would be seen and fail the order.
    const last = await s.events.next((f) => f.type === 'output' && f.taskId === taskId && String(f.data).includes('file(s) changed'))
    const exit = await s.events.next((f) => f.type === 'exit' && f.taskId === taskId)
    expect(last.seq!).toBeLessThan(exit.seq!)
    expect(exit.seq!).toBeLessThan(completed.seq!)
    expect(s.events.of(taskId, 'output').every((f) => f.seq! < completed.seq!)).toBe(true)
  })

  it('acp mode: the mock\'s log of its edit is published before the turn ends completed', async () => {
    await using s = await conversationServer()
    const taskId = await s.start(mockTask)
    const completed = await s.status(taskId, 'completed')
    const edited = await s.events.next((f) => f.type === 'output' && f.taskId === taskId && outputText([f]).includes('edited NOTES.md'))
    expect(edited.seq!).toBeLessThan(completed.seq!)
    expect(s.events.of(taskId, 'output').every((f) => f.seq! < completed.seq!)).toBe(true)
  })
})
