import { describe, expect, it } from 'bun:test'
import { TailBuffer } from '../../src/cmdexec/output'
import { OutputStreamer } from '../../src/events'

describe('TailBuffer', () => {
  it('keeps the last bytes and never starts in the middle of a character', () => {
    const tail = new TailBuffer(7)
    tail.append('abc')
    tail.append('é日本') // 2 + 3 + 3 bytes
    expect(tail.truncated).toBe(true)
    expect(tail.text()).toBe('日本')
    expect(Buffer.byteLength(tail.text())).toBeLessThanOrEqual(7)
  })

  it('is not truncated while everything fits', () => {
    const tail = new TailBuffer(8)
    tail.append('1234')
    tail.append('5678')
    expect({ text: tail.text(), truncated: tail.truncated }).toEqual({ text: '12345678', truncated: false })
  })
})

describe('OutputStreamer', () => {
  it('sends chunks written together as one event, in order, and everything on finish', async () => {
    const events: string[] = []
    const streamer = new OutputStreamer((data) => events.push(data), { coalesceMs: 20, maxEventChars: 1024, bytesPerSecond: 1 << 20 })
    streamer.write('a')
    streamer.write('b')
    await Bun.sleep(60)
    streamer.write('c')
    streamer.finish()
    expect(events).toEqual(['ab', 'c'])
  })

  it('splits large output into events of at most maxEventChars without splitting a surrogate pair', () => {
    const events: string[] = []
    const streamer = new OutputStreamer((data) => events.push(data), { coalesceMs: 20, maxEventChars: 4, bytesPerSecond: 1 << 20 })
    streamer.write('abc🎉defgh')
    streamer.finish()
    expect(events.join('')).toBe('abc🎉defgh')
    expect(events.every((data) => data.length <= 4 && !/^[\udc00-\udfff]/.test(data))).toBe(true)
  })

  it('streams at most bytesPerSecond and announces what it skipped', () => {
    const events: string[] = []
    const streamer = new OutputStreamer((data) => events.push(data), { coalesceMs: 20, maxEventChars: 1024, bytesPerSecond: 10 })
    streamer.write('0123456789ABCDEF')
    streamer.write('more')
    streamer.finish()
    expect(events[0]).toBe('0123456789')
    expect(events[1]).toContain('10 bytes of output were not streamed')
    expect(events).toHaveLength(2)
  })
})
