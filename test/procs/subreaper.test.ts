import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

/** The pids this process holds a pidfd for. */
function pidfdPids(): number[] {
  const pids: number[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:[pidfd]') continue
      const match = /^Pid:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))
      if (match) pids.push(Number(match[1]))
    } catch {
      // closed meanwhile
    }
  }
  return pids
}

describe.if(process.platform === 'linux')('the child subreaper', () => {
  // The reaper tells Bun's own children from adopted ones by the pidfd Bun keeps for its own:
  // if a Bun upgrade stops doing that, this fails before a reaped child loses its exit code.
  it("relies on Bun holding a pidfd for each child it spawned, pipes and terminals alike, until it exits", async () => {
    const piped = Bun.spawn(['sleep', '30'])
    const onPty = Bun.spawn(['sleep', '30'], { terminal: { cols: 80, rows: 24, data() {} } })
    try {
      expect(pidfdPids()).toEqual(expect.arrayContaining([piped.pid, onPty.pid]))
    } finally {
      piped.kill('SIGKILL')
      onPty.kill('SIGKILL')
      await Promise.all([piped.exited, onPty.exited])
    }
  })

  it("adopts an orphan, reaps it once killed, and leaves Bun's own children their exit codes", async () => {
    const run = Bun.spawn([process.execPath, join(import.meta.dir, 'adopting-server.ts')], { stdout: 'pipe', stderr: 'pipe' })
    const [out, err, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited])
    expect({ code, err }).toEqual({ code: 0, err: '' })
    const seen = JSON.parse(out) as { state: { enabled: boolean }; self: number; adoptedBy: number; codes: number[]; orphanReaped: boolean }
    expect(seen.state).toEqual({ enabled: true })
    expect(seen.adoptedBy).toBe(seen.self)
    expect(seen.codes).toEqual([10, 11, 12, 13, 14])
    expect(seen.orphanReaped).toBe(true)
  }, 30_000)
})
