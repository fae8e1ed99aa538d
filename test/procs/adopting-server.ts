/**
 * Run as its own process by subreaper.test.ts (a subreaper changes the whole process, so not the
 * test runner's): becomes a child subreaper, gets an orphan adopted, kills it while children of
 * its own exit, and prints what it saw as one JSON line.
 */
import { existsSync, readFileSync } from 'node:fs'
import { enableChildSubreaper } from '../../src/procs'

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return null
  }
}

const state = enableChildSubreaper()
// The starter leaves `sleep` behind and exits: the sleep's parent is gone.
const starter = Bun.spawn(['sh', '-c', 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { stdout: 'pipe' })
const orphan = Number((await new Response(starter.stdout).text()).trim())
await starter.exited
const adoptedBy = parentOf(orphan)
// Children Bun spawned exit while the adopted one is reaped: their exit codes stay theirs.
const own = [0, 1, 2, 3, 4].map((i) => Bun.spawn(['sh', '-c', `sleep 0.${i}; exit ${10 + i}`]))
process.kill(orphan, 'SIGKILL')
const codes = await Promise.all(own.map((proc) => proc.exited))
const deadline = Date.now() + 10_000
while (existsSync(`/proc/${orphan}`) && Date.now() < deadline) await Bun.sleep(20)
console.log(JSON.stringify({ state, self: process.pid, adoptedBy, codes, orphanReaped: !existsSync(`/proc/${orphan}`) }))
