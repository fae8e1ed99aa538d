/**
 * The git figures end to end over HTTP against the compiled binary, on a generated 10k-file repo
 * with 10 files changed: GET /api/git/diff against `git diff HEAD`, POST /api/tasks (the mock edits
 * one file) until `completed` against `git worktree add`, and the longest /healthz wait seen by a
 * separate process while 3 workspaces and 5 diffs run at once. Runs alternate sides.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startBenchServer, type BenchServer } from './bench-server'

export type GitBench = { files: number; runs: number; diffOursMs: number[]; diffGitMs: number[]; taskOursMs: number[]; worktreeMs: number[]; healthzMaxMs: number; healthzPolls: number }

function gitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
  }
}

function git(cwd: string, home: string, args: string[]): string {
  const r = Bun.spawnSync(['git', ...args], { cwd, env: gitEnv(home), stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.toString()}`)
  return r.stdout.toString()
}

/** A repo of `files` files of 40 lines in directories of 100, committed, then 10 files edited. */
export function makeBigRepo(repo: string, home: string, files: number): void {
  mkdirSync(repo, { recursive: true })
  git(repo, home, ['init', '-q', '-b', 'main'])
  const perDir = 100
  const body = (i: number, edit?: number) => Array.from({ length: 40 }, (_, l) => (l === 7 && edit !== undefined ? `// edited ${edit}` : `export const v${l} = ${i * 40 + l} // file ${i}`)).join('\n') + '\n'
  for (let i = 0; i < files; i++) {
    const dir = join(repo, `src/m${Math.floor(i / perDir)}`)
    if (i % perDir === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `f${i}.ts`), body(i))
  }
  writeFileSync(join(repo, '.gitignore'), 'node_modules/\n*.log\n')
  git(repo, home, ['add', '-A'])
  // 10k new objects make the commit start `git gc --auto`, by default detached: it would pack
  // them in the background while both sides are being timed. Let it finish first instead.
  git(repo, home, ['-c', 'gc.autoDetach=false', 'commit', '-q', '-m', 'bench'])
  for (let k = 0; k < 10; k++) {
    const i = Math.floor((k * files) / 10) + 3
    writeFileSync(join(repo, `src/m${Math.floor(i / perDir)}/f${i}.ts`), body(i, k))
  }
  // Both sides see the same stat-fresh index: git refreshes it, and the server reads what it wrote.
  git(repo, home, ['status', '--porcelain'])
}

type Session = { sessionId: string; token: string }

async function call(server: BenchServer, session: Session, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function timedDiff(server: BenchServer, session: Session): Promise<number> {
  const started = performance.now()
  const answer = await call(server, session, '/api/git/diff')
  const ms = performance.now() - started
  const patches = answer.body.patches as unknown[] | undefined
  if (answer.status !== 200 || patches?.length !== 10) throw new Error(`GET /api/git/diff: ${answer.status}, ${patches?.length} patches (expected 10)`)
  return ms
}

/** POST /api/tasks with the mock editing one file, then GET /api/tasks/{id} every 5 ms until completed. */
async function timedTask(server: BenchServer, session: Session, n: number): Promise<number> {
  const started = performance.now()
  const body = JSON.stringify({ instruction: `bench ${n}`, context: { mock: { edits: [{ file: 'src/m0/f0.ts', content: `// bench ${n}\n` }] } } })
  const accepted = await call(server, session, '/api/tasks', { method: 'POST', body })
  if (accepted.status !== 202) throw new Error(`POST /api/tasks: ${accepted.status} ${JSON.stringify(accepted.body)}`)
  for (;;) {
    const view = await call(server, session, `/api/tasks/${accepted.body.taskId}`)
    if (view.body.status === 'completed') return performance.now() - started
    if (view.status !== 200 || !['pending', 'running'].includes(String(view.body.status))) throw new Error(`task ended ${view.status} ${JSON.stringify(view.body)}`)
    await Bun.sleep(5)
  }
}

/** A separate process that GETs /healthz back to back and reports the longest wait when told to stop. */
function startHealthzPoller(baseUrl: string) {
  const script = `let max = 0, polls = 0, stop = false
process.stdin.on('data', () => { stop = true })
while (!stop) { const t = performance.now(); await fetch(${JSON.stringify(baseUrl + '/healthz')}).then((r) => r.arrayBuffer()); max = Math.max(max, performance.now() - t); polls++; await Bun.sleep(1) }
console.log(JSON.stringify({ max, polls }))
process.exit(0)`
  const proc = Bun.spawn([process.execPath, '-e', script], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  return {
    async stop(): Promise<{ max: number; polls: number }> {
      proc.stdin.write('stop\n')
      await proc.stdin.flush()
      const out = await new Response(proc.stdout).text()
      return JSON.parse(out) as { max: number; polls: number }
    },
  }
}

export async function benchGit(options: { binary: string; files?: number; runs?: number }): Promise<GitBench> {
  const files = options.files ?? 10_000
  const runs = options.runs ?? 5
  const server = await startBenchServer(options.binary)
  try {
    const repo = join(dirname(server.repo), 'big')
    makeBigRepo(repo, server.root, files)
    const session = await server.pair(repo)

    await timedDiff(server, session)
    git(repo, server.root, ['diff', 'HEAD'])
    const diffOursMs: number[] = []
    const diffGitMs: number[] = []
    const gitDiff = () => {
      const started = performance.now()
      if (!git(repo, server.root, ['diff', 'HEAD']).includes('edited')) throw new Error('git diff saw no change')
      diffGitMs.push(performance.now() - started)
    }
    for (let run = 0; run < runs; run++) {
      if (run % 2) gitDiff()
      diffOursMs.push(await timedDiff(server, session))
      if (run % 2 === 0) gitDiff()
    }

    const taskOursMs: number[] = []
    const worktreeMs: number[] = []
    const worktree = (n: number) => {
      const dir = join(server.root, `wt${n}`)
      const started = performance.now()
      git(repo, server.root, ['worktree', 'add', '-q', '--detach', dir])
      const ms = performance.now() - started
      git(repo, server.root, ['worktree', 'remove', '--force', dir])
      return ms
    }
    await timedTask(server, session, 0)
    worktree(0)
    for (let run = 1; run <= runs; run++) {
      if (run % 2) worktreeMs.push(worktree(run))
      taskOursMs.push(await timedTask(server, session, run))
      if (run % 2 === 0) worktreeMs.push(worktree(run))
    }

    // 3 workspaces and 5 diffs at once, each workspace in its own session, while a separate
    // process polls /healthz.
    const sessions = await Promise.all([0, 1, 2].map(() => server.pair(repo)))
    const poller = startHealthzPoller(server.baseUrl)
    await Bun.sleep(300)
    await Promise.all([...sessions.map((s, i) => timedTask(server, s, 100 + i)), ...[0, 1, 2, 3, 4].map(() => timedDiff(server, session))])
    const healthz = await poller.stop()
    return { files, runs, diffOursMs, diffGitMs, taskOursMs, worktreeMs, healthzMaxMs: healthz.max, healthzPolls: healthz.polls }
  } finally {
    server.stop()
  }
}

if (import.meta.main) console.log(await benchGit({ binary: process.argv[2] ?? join(import.meta.dir, '..', 'dist', 'cockpit-coder'), files: Number(process.argv[3] ?? 10_000) }))
