/**
 * Start to healthy: spawn until GET /healthz answers 200, the compiled binary against a compiled
 * minimal Elysia app (same flags: --bytecode), alternating, several runs each. Each start begins
 * once the process before it is gone: a killed process's teardown otherwise overlaps the next
 * start on one of the two cores.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readListeningUrl, startBenchServer, untilHealthy } from './bench-server'

export type StartBench = { runs: number; oursMs: number[]; minimalMs: number[] }

function compileMinimal(dir: string): string {
  const outfile = join(dir, 'minimal-elysia')
  const entry = join(import.meta.dir, 'bench-minimal-app.ts')
  const build = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify-whitespace', '--minify-syntax', '--bytecode', '--format=esm', entry, '--outfile', outfile], { stdout: 'ignore', stderr: 'inherit' })
  if (build.exitCode !== 0) throw new Error('could not compile the minimal Elysia app')
  return outfile
}

async function startMinimal(binary: string): Promise<number> {
  const started = performance.now()
  const proc = Bun.spawn([binary], { stdout: 'pipe', stderr: 'inherit' })
  try {
    await untilHealthy(await readListeningUrl(proc.stdout.getReader(), 'minimal app'))
    return performance.now() - started
  } finally {
    proc.kill('SIGKILL')
    await proc.exited
  }
}

export async function benchStart(options: { binary: string; runs?: number }): Promise<StartBench> {
  const runs = options.runs ?? 7
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-bench-start-'))
  try {
    const minimal = compileMinimal(dir)
    await startMinimal(minimal) // page cache, as for the server below
    const first = await startBenchServer(options.binary)
    first.stop()
    await first.exited
    const oursMs: number[] = []
    const minimalMs: number[] = []
    for (let run = 0; run < runs; run++) {
      const ours = async () => {
        const server = await startBenchServer(options.binary)
        oursMs.push(server.startMs)
        server.stop()
        await server.exited
      }
      if (run % 2 === 0) {
        await ours()
        minimalMs.push(await startMinimal(minimal))
      } else {
        minimalMs.push(await startMinimal(minimal))
        await ours()
      }
    }
    return { runs, oursMs, minimalMs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) console.log(await benchStart({ binary: process.argv[2] ?? join(import.meta.dir, '..', 'dist', 'cockpit-coder') }))
