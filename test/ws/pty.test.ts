import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { makeWsTestApp, rawUpgrade, TestSocket, typeLine, type WsTestApp } from './helpers'

const EURO_COUNT = 40_000

// Real shells: an interactive bash takes about a second to start on a busy machine.
setDefaultTimeout(30_000)

let t: WsTestApp

beforeAll(async () => {
  // The mock in print mode: a task's agent terminal (`?taskId=`) is a print-mode thing.
  t = await makeWsTestApp({ repoFiles: { 'README.md': '# repo\n', 'euros.txt': '€'.repeat(EURO_COUNT) + 'É日本\n' }, env: { AGENT_MOCK_MODE: 'print' } })
})

afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

/** A fresh shell for one test: the previous test's shell is stopped first. */
async function freshShell(): Promise<void> {
  await t.terminals.stopSession(t.sessionId)
}

/** The shell's pid as `echo $$` prints it, between markers so the echoed command line does not match. */
async function shellPid(socket: TestSocket, tag: string): Promise<number> {
  typeLine(socket, `echo ${tag}-$$-END`)
  const pattern = new RegExp(`${tag}-(\\d+)-END`)
  await socket.untilText(pattern)
  return Number(socket.text.match(pattern)![1])
}

describe('/ws/pty', () => {
  it('runs a shell in the session repo: echo $((6*7)) shows 42', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    typeLine(socket, 'echo $((6*7)); pwd')
    await socket.untilText('42\r\n')
    await socket.untilText(`${t.repo}\r\n`)
    socket.close()
  })

  it('resizes with a resize frame: stty size then shows 33 101', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl({ cols: 80, rows: 24 }))
    await socket.opened
    socket.send(JSON.stringify({ type: 'resize', cols: 101, rows: 33 }))
    typeLine(socket, 'stty size')
    await socket.untilText('33 101\r\n')
    socket.close()
  })

  it('starts the shell at the size given in the query', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl({ cols: 120, rows: 40 }))
    await socket.opened
    typeLine(socket, 'stty size')
    await socket.untilText('40 120\r\n')
    socket.close()
  })

  it('gives a reconnecting client the earlier output once, then the same shell', async () => {
    await freshShell()
    const first = new TestSocket(t.ptyUrl())
    await first.opened
    const pid = await shellPid(first, 'FIRST')
    typeLine(first, 'echo MARK-$((6*7))')
    await first.untilText('MARK-42\r\n')
    first.close()
    await first.closed

    const second = new TestSocket(t.ptyUrl())
    await second.opened
    await second.untilText('MARK-42\r\n')
    expect(await shellPid(second, 'SECOND')).toBe(pid)
    // The output line once: nothing replayed twice, nothing lost between replay and live.
    expect(second.text.split('MARK-42\r\n').length - 1).toBe(1)
    expect(second.text.startsWith(first.text)).toBe(true)
    second.close()
  })

  it('lets several clients watch and type into the same shell', async () => {
    await freshShell()
    const a = new TestSocket(t.ptyUrl())
    const b = new TestSocket(t.ptyUrl())
    await Promise.all([a.opened, b.opened])
    typeLine(a, 'echo FROM-A-$((1+1))')
    typeLine(b, 'echo FROM-B-$((2+2))')
    for (const socket of [a, b]) {
      await socket.untilText('FROM-A-2\r\n')
      await socket.untilText('FROM-B-4\r\n')
    }
    a.close()
    b.close()
  })

  it('types {"type":"input"} frames and binary frames, even a character split across two frames', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    socket.send(JSON.stringify({ type: 'input', data: 'echo IN-$((1+2))\r' }))
    await socket.untilText('IN-3\r\n')
    const bytes = new TextEncoder().encode('echo BIN-€-$((2+3))\r')
    const euro = bytes.indexOf(0xe2)
    socket.send(bytes.slice(0, euro + 1))
    socket.send(bytes.slice(euro + 1))
    await socket.untilText('BIN-€-5\r\n')
    socket.close()
  })

  it('types text that merely looks like JSON as it is', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    typeLine(socket, `printf '%s\\n' '{"type":"other"}' "[1,2]" '"q"' 007`)
    await socket.untilText('{"type":"other"}\r\n[1,2]\r\n"q"\r\n007\r\n')
    socket.close()
  })

  it('keeps multibyte UTF-8 intact across PTY reads', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    typeLine(socket, 'cat euros.txt')
    await socket.untilText('É日本\r\n')
    const euros = socket.text.match(/€+/g)!.reduce((longest, run) => Math.max(longest, run.length), 0)
    expect(euros).toBe(EURO_COUNT)
    expect(socket.text).not.toContain('\uFFFD')
    socket.close()
  })

  it('sends an exit frame and closes when the shell exits; the next client gets a new shell', async () => {
    await freshShell()
    const socket = new TestSocket(t.ptyUrl())
    await socket.opened
    const pid = await shellPid(socket, 'OLD')
    typeLine(socket, 'exit 3')
    const closed = await socket.closed
    expect(closed.code).toBe(1000)
    const exit = JSON.parse(socket.frames.at(-1)!) as Record<string, unknown>
    expect(exit).toMatchObject({ type: 'exit', code: 3 })
    expect(typeof exit.durationMs).toBe('number')

    const next = new TestSocket(t.ptyUrl())
    await next.opened
    expect(await shellPid(next, 'NEW')).not.toBe(pid)
    next.close()
  })

  it("watches a task's agent terminal with taskId and types into it; a finished task replays, then exits", async () => {
    const started = await t.request('/api/tasks', {
      method: 'POST',
      json: { instruction: 'watch me', context: { mock: { prompt: 'Proceed?', output: 'agent-output-line' } } },
    })
    expect(started.status).toBe(202)
    const { taskId } = (await started.json()) as { taskId: string }
    const socket = new TestSocket(t.ptyUrl({ taskId }))
    await socket.opened
    await socket.untilText('Proceed? [y/n]')
    typeLine(socket, 'y')
    const closed = await socket.closed
    expect(closed.code).toBe(1000)
    expect(socket.text).toContain('agent-output-line')
    expect(JSON.parse(socket.frames.at(-1)!)).toMatchObject({ type: 'exit', code: 0 })

    const late = new TestSocket(t.ptyUrl({ taskId }))
    await late.opened
    await late.closed
    expect(late.text).toContain('agent-output-line')
    expect(JSON.parse(late.frames.at(-1)!)).toMatchObject({ type: 'exit', code: 0 })
  })

  it("refuses an unknown taskId, and another session's task, with 404 before the upgrade", async () => {
    const other = await t.newSession()
    const created = await t.request('/api/tasks', { method: 'POST', json: { instruction: 'mine' } })
    const { taskId } = (await created.json()) as { taskId: string }
    const foreign = `${t.wsUrl}/ws/pty?${new URLSearchParams({ sessionId: other.sessionId, token: other.token, taskId })}`
    const answers = await Promise.all([rawUpgrade(t.ptyUrl({ taskId: 'no-such-task' })), rawUpgrade(foreign)])
    for (const answer of answers) {
      expect(answer.status).toBe(404)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'task_not_found' })
    }
  })

  it('refuses a size outside 1..1000 with 400 bad_terminal_size', async () => {
    for (const size of [{ cols: 0, rows: 24 }, { cols: 80, rows: 5000 }, { cols: 80 }] as Record<string, number>[]) {
      const answer = await rawUpgrade(t.ptyUrl(size))
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'bad_terminal_size' })
    }
  })
})
