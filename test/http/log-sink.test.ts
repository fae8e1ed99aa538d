import { expect, test } from 'bun:test'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBatchedSink } from '../../src/logger'

/** A sink on a temp file: `read` is what reached the file, `flushed` flushes first. */
function fileSink(options: { delayMs?: number; maxBytes?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-log-'))
  const path = join(dir, 'log')
  const fd = openSync(path, 'w')
  const sink = createBatchedSink(fd, options)
  return {
    sink,
    read: () => readFileSync(path, 'utf8'),
    flushed(): string {
      sink.flush!()
      return readFileSync(path, 'utf8')
    },
    [Symbol.dispose]() {
      closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

test('lines reach the file whole and in order, across batch buffers and with multi-byte text', () => {
  using log = fileSink({ delayMs: 60_000 })
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'é€😀'.repeat(i % 7)} ${'x'.repeat(i % 90)}`)
  // One line longer than a batch buffer (64 KiB) on its own.
  lines.splice(1500, 0, `long ${'ü'.repeat(70_000)}`)
  for (const line of lines) log.sink(line)
  expect(log.read()).toBe('')
  expect(log.flushed()).toBe(lines.join('\n') + '\n')
})

test('a batch is written on its own once its delay has passed, and the next one after it', async () => {
  using log = fileSink({ delayMs: 5 })
  log.sink('first')
  log.sink('second')
  const until = async (text: string) => {
    const deadline = Date.now() + 10_000
    while (log.read() !== text && Date.now() < deadline) await Bun.sleep(10)
    expect(log.read()).toBe(text)
  }
  await until('first\nsecond\n')
  log.sink('third')
  await until('first\nsecond\nthird\n')
})

test('past maxBytes lines are dropped and counted, not held', () => {
  using log = fileSink({ delayMs: 60_000, maxBytes: 1000 })
  for (let i = 0; i < 100; i++) log.sink(`line ${i} ${'y'.repeat(40)}`)
  const lines = log.flushed().trimEnd().split('\n')
  const kept = lines.filter((line) => line.startsWith('line '))
  expect(kept.length).toBeGreaterThan(10)
  expect(kept.length).toBeLessThan(25)
  expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `line ${i} ${'y'.repeat(40)}`))
  expect(lines.at(-1)).toMatch(new RegExp(`WARN log lines dropped .* count=${100 - kept.length}$`))
  // After a flush the bound starts again.
  log.sink('after')
  expect(log.flushed().endsWith('\nafter\n')).toBe(true)
})
