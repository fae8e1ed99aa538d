import { afterAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildChildEnv } from '../../src/policy/env'
import { Terminal } from '../../src/pty'
import { TerminalThread } from '../../src/pty/pty-thread'
import { CONTROL_BYTES, SLOT, SPAWN_ABANDONED } from '../../src/pty/thread-protocol'
import { processesWith } from '../e2e/conversation-client'

setDefaultTimeout(60_000)

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-pty-thread-')))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const BLOCK = 64 * 1024
const BLOCKS = 256

/**
 * A program that writes BLOCKS blocks of 'x' to its terminal as fast as it can, and after each
 * one records how many it has written, so the test can see whether write() is waiting.
 */
function writer(progress: string): string {
  const script = join(dir, 'writer.js')
  writeFileSync(
    script,
    `const fs = require('fs')
const block = Buffer.alloc(${BLOCK}, 'x')
for (let n = 1; n <= ${BLOCKS}; n++) {
  fs.writeSync(1, block)
  fs.writeFileSync(${JSON.stringify(progress)}, String(n))
}
`,
  )
  return script
}

const written = (progress: string) => (existsSync(progress) ? Number(readFileSync(progress, 'utf8') || 0) : 0)

describe("a terminal's thread", () => {
  it('makes a flooding program wait while the server takes no output, then delivers every byte', async () => {
    const progress = join(dir, 'progress')
    const terminal = Terminal.spawn({ file: process.execPath, args: [writer(progress)], cwd: dir, env: buildChildEnv(process.env), scrollbackBytes: 4096 })
    let received = 0
    let chars = 0
    terminal.onData((chunk) => {
      for (let i = 0; i < chunk.length; i++) if (chunk.charCodeAt(i) === 120) received++
      chars += chunk.length
    })
    // Hold this (the server's) thread: no output is taken, so the program must come to a stop
    // in write() once what is in flight reaches the bound, instead of the queue growing.
    let before = -1
    let now = written(progress)
    for (let tries = 0; tries < 100 && !(now > 0 && now === before); tries++) {
      Bun.sleepSync(300)
      before = now
      now = written(progress)
    }
    expect(now).toBeGreaterThan(0)
    expect(now).toBe(before)
    expect(now).toBeLessThan(BLOCKS)
    // In flight (512 Ki characters), one read of Bun's (256 KiB), the kernel's PTY buffers and
    // the block being written: far below what the program would have written unchecked.
    expect(now * BLOCK).toBeLessThan(4 * 1024 * 1024)

    const exit = await terminal.exited
    expect(exit.code).toBe(0)
    expect(written(progress)).toBe(BLOCKS)
    expect(received).toBe(BLOCKS * BLOCK)
    expect(chars).toBe(BLOCKS * BLOCK)
  })
})

describe("a terminal's output rate", () => {
  it('slows a program to the rate, and delivers every byte of its output', async () => {
    const rate = 256 * 1024
    const total = 1024 * 1024
    const progress = join(dir, 'paced-progress')
    const script = join(dir, 'paced-writer.js')
    // 16 blocks of 64 KiB, recording after each how many were written.
    writeFileSync(
      script,
      `const fs = require('fs')\nconst block = Buffer.alloc(${total / 16}, 'x')\nfor (let n = 1; n <= 16; n++) { fs.writeSync(1, block); fs.writeFileSync(${JSON.stringify(progress)}, String(n)) }\n`,
    )
    const spawnedAt = performance.now()
    const terminal = Terminal.spawn({ file: process.execPath, args: [script], cwd: dir, env: buildChildEnv(process.env), scrollbackBytes: 4096, outputCharsPerSecond: rate })
    let received = 0
    let firstAt = 0
    terminal.onData((chunk) => {
      firstAt ||= performance.now()
      for (let i = 0; i < chunk.length; i++) if (chunk.charCodeAt(i) === 120) received++
    })
    await Bun.sleep(500)
    // Half a second in, the program waits in write(): it has written at most the budget it started
    // with (a second's worth), what the rate allowed since, and what the PTY and one read of
    // Bun's hold (unchecked, it writes the whole 1 MiB in a few ms). The bound grows with the time
    // that really passed, so a late timer only loosens it; the duration below holds at any load.
    const blocksWritten = written(progress)
    const allowedBytes = rate + rate * ((performance.now() - spawnedAt) / 1000) + 320 * 1024
    expect(blocksWritten * (total / 16)).toBeLessThanOrEqual(allowedBytes)
    const exit = await terminal.exited
    const ms = performance.now() - firstAt
    expect(exit.code).toBe(0)
    expect(written(progress)).toBe(16)
    expect(received).toBe(total)
    // One second's budget at once, the other 768 KiB at 256 KiB/s: at least 3 s; a busy machine
    // only makes it longer.
    expect(ms).toBeGreaterThan(2500)
  })

  it('does not keep a closed terminal waiting for its rate', async () => {
    const marker = `paced-${process.pid}-${Date.now()}`
    let chars = 0
    // 100 characters a second: the first read of `yes` alone is a wait of many seconds.
    const thread = TerminalThread.spawn(
      { file: '/usr/bin/yes', args: [marker], cwd: dir, env: buildChildEnv(process.env), cols: 80, rows: 24, name: 'xterm-256color', outputCharsPerSecond: 100 },
      { data: (text) => (chars += text.length), exit: () => {}, error: () => {} },
    )
    for (let i = 0; i < 200 && chars === 0; i++) await Bun.sleep(25)
    expect(chars).toBeGreaterThan(100)
    expect(await processesWith(marker)).toEqual([thread.pid])
    thread.close()
    // Closed, the thread stops waiting, closes the PTY and the program goes with it (SIGHUP).
    let left = await processesWith(marker)
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await Bun.sleep(50)
      left = await processesWith(marker)
    }
    expect(left).toEqual([])
  })
})

describe('a spawn the server stopped waiting for', () => {
  it('fails the call and leaves no process behind', async () => {
    const marker = `abandoned-${process.pid}-${Date.now()}`
    const events = { data: () => {}, exit: () => {}, error: () => {} }
    const request = { file: '/bin/sh', args: ['-c', `sleep 1000; : ${marker}`], cwd: dir, env: buildChildEnv(process.env), cols: 80, rows: 24, name: 'xterm-256color' }
    // A wait of 0 ms ends before the thread has even read the request.
    expect(() => TerminalThread.spawn(request, events, 0)).toThrow(/did not start within 0 s/)
    await Bun.sleep(500)
    expect(await processesWith(marker)).toEqual([])
  })

  it('is not started by a thread that reads it late, and the thread ends', async () => {
    const marker = `late-${process.pid}-${Date.now()}`
    const control = new SharedArrayBuffer(CONTROL_BYTES)
    const shared = new Int32Array(control)
    Atomics.store(shared, SLOT.state, SPAWN_ABANDONED)
    const worker = new Worker(new URL('../../src/pty/pty-worker.ts', import.meta.url).href)
    const ended = new Promise<void>((resolve) => worker.addEventListener('close', () => resolve()))
    worker.postMessage({ type: 'spawn', control, file: '/bin/sh', args: ['-c', `sleep 1000; : ${marker}`], cwd: dir, env: buildChildEnv(process.env), cols: 80, rows: 24, name: 'xterm-256color' })
    await ended
    expect(Atomics.load(shared, SLOT.state)).toBe(SPAWN_ABANDONED)
    expect(Atomics.load(shared, SLOT.pid)).toBe(0)
    expect(await processesWith(marker)).toEqual([])
  })
})
