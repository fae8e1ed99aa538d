import { describe, expect, it } from 'bun:test'
import { Scrollback, utf8Tail } from '../../src/pty/scrollback'

const bytes = (text: string) => Buffer.byteLength(text, 'utf8')

describe('Scrollback', () => {
  it('gives a tail of the newest lines, starting at a line start, built from the last chunks', () => {
    const history = new Scrollback(1_000_000)
    for (let i = 0; i < 1000; i++) history.append(`line ${i}\r\n`)
    const tail = history.tail(100)
    expect(tail.length).toBeLessThanOrEqual(100)
    expect(tail.startsWith('line ')).toBe(true)
    expect(tail.endsWith('line 999\r\n')).toBe(true)
    expect(history.text().endsWith(tail)).toBe(true)
    expect(history.tail(1_000_000)).toBe(history.text())
  })

  it('never starts a tail without line breaks on half a surrogate pair', () => {
    const history = new Scrollback(1000)
    history.append('😀'.repeat(50))
    const tail = history.tail(11)
    expect(tail).toBe('😀'.repeat(5))
  })

  it('keeps everything under the limit, in order', () => {
    const history = new Scrollback(100)
    history.append('one ')
    history.append('two ')
    history.append('three')
    expect(history.text()).toBe('one two three')
    expect(history.size).toBe(13)
  })

  it('drops the oldest output past the limit and keeps exactly the newest bytes', () => {
    const history = new Scrollback(10)
    let all = ''
    for (let i = 0; i < 100; i++) {
      const chunk = `${i % 10}`.repeat(3)
      all += chunk
      history.append(chunk)
    }
    expect(history.text()).toBe(all.slice(-10))
    expect(history.text()).toBe('6777888999')
    // Whole chunks are dropped: what is held stays under the limit plus one chunk.
    expect(history.size).toBeLessThan(10 + 3)
  })

  it('cuts between characters, never inside a multibyte one', () => {
    const history = new Scrollback(10)
    history.append('€€€€€€€€') // 24 bytes
    const kept = history.text()
    expect(kept).toBe('€€€')
    expect(kept).not.toContain('\uFFFD')
    history.append('ab')
    // 'ab' and two euros are 8 bytes; a third euro would make 11.
    expect(history.text()).toBe('€€ab')
  })

  it('keeps the tail of a single chunk larger than the limit', () => {
    const history = new Scrollback(5)
    history.append('0123456789')
    expect(history.text()).toBe('56789')
  })

  it('keeps nothing with a limit of 0 and refuses a negative one', () => {
    const history = new Scrollback(0)
    history.append('anything')
    expect(history.text()).toBe('')
    expect(() => new Scrollback(-1)).toThrow(RangeError)
  })

  it('stays bounded over many appends', () => {
    const history = new Scrollback(4096)
    for (let i = 0; i < 20_000; i++) history.append(`line ${i} é\r\n`)
    expect(bytes(history.text())).toBeLessThanOrEqual(4096)
    expect(history.size).toBeLessThan(4096 + 20)
    expect(history.text().endsWith('line 19999 é\r\n')).toBe(true)
  })
})

describe('utf8Tail', () => {
  it('returns the text itself when it fits', () => {
    expect(utf8Tail('héllo', 6)).toBe('héllo')
  })

  it('skips a partial leading character (4-byte emoji)', () => {
    expect(utf8Tail('a😀b', 4)).toBe('b')
    expect(utf8Tail('a😀b', 5)).toBe('😀b')
  })
})
