/**
 * Measures the git layer against the git CLI on a generated repository (default 10k files):
 * diffWorkingTree vs `git diff HEAD` (both produce the patch text), and createWorkspace vs
 * `git worktree add --detach`. Medians of several warm runs; the machine is assumed noisy.
 * Run directly (`bun run scripts/bench-git.ts [files] [runs]`) to print the table.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkspace, diffWorkingTree } from '../src/git/index'

export type GitBench = { diffRatio: number; diffOursMs: number; diffGitMs: number; workspaceRatio: number; workspaceOursMs: number; worktreeMs: number }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

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

export async function benchGit(opts: { files?: number; runs?: number } = {}): Promise<GitBench> {
  const files = opts.files ?? 10_000
  const runs = opts.runs ?? 7
  const root = mkdtempSync(join(tmpdir(), 'cockpit-bench-git-'))
  try {
    const repo = join(root, 'repo')
    mkdirSync(repo)
    git(repo, root, ['init', '-q', '-b', 'main'])
    const perDir = 100
    for (let i = 0; i < files; i++) {
      const dir = join(repo, `src/m${Math.floor(i / perDir)}`)
      if (i % perDir === 0) mkdirSync(dir, { recursive: true })
      const body = Array.from({ length: 40 }, (_, l) => `export const v${l} = ${i * 40 + l} // file ${i}`).join('\n') + '\n'
      writeFileSync(join(dir, `f${i}.ts`), body)
    }
    writeFileSync(join(repo, '.gitignore'), 'node_modules/\n*.log\n')
    git(repo, root, ['add', '-A'])
    // 10k new objects make the commit start `git gc --auto`, by default detached: it would pack
    // them in the background while both sides are being timed. Let it finish first instead.
    git(repo, root, ['-c', 'gc.autoDetach=false', 'commit', '-q', '-m', 'bench'])
    for (let k = 0; k < 10; k++) {
      const i = Math.floor((k * files) / 10) + 3
      const file = join(repo, `src/m${Math.floor(i / perDir)}/f${i}.ts`)
      writeFileSync(file, Array.from({ length: 40 }, (_, l) => (l === 7 ? `// edited ${k}` : `export const v${l} = ${i * 40 + l} // file ${i}`)).join('\n') + '\n')
    }
    // Both sides see the same stat-fresh index: git refreshes it, and we read what it wrote.
    git(repo, root, ['status', '--porcelain'])

    const timeGitDiff = () => {
      const t = performance.now()
      const out = git(repo, root, ['diff', 'HEAD'])
      const ms = performance.now() - t
      if (!out.includes('edited')) throw new Error('git diff saw no change')
      return ms
    }
    const timeOurs = async () => {
      const t = performance.now()
      const patches = await diffWorkingTree(repo)
      const ms = performance.now() - t
      if (patches.length !== 10) throw new Error(`diffWorkingTree found ${patches.length} files, expected 10`)
      return ms
    }
    await timeOurs()
    timeGitDiff()
    const ours: number[] = []
    const theirs: number[] = []
    // alternate which side goes first, so neither always runs right after the other
    for (let r = 0; r < runs; r++) {
      if (r % 2) theirs.push(timeGitDiff())
      ours.push(await timeOurs())
      if (r % 2 === 0) theirs.push(timeGitDiff())
    }

    const wsOurs: number[] = []
    const wsGit: number[] = []
    const wsRuns = Math.max(3, Math.ceil(runs / 2))
    for (let r = 0; r < wsRuns + 1; r++) {
      const ws = join(root, `ws${r}`)
      let t = performance.now()
      await createWorkspace(repo, ws)
      const oursMs = performance.now() - t
      rmSync(ws, { recursive: true, force: true })
      const wt = join(root, `wt${r}`)
      t = performance.now()
      git(repo, root, ['worktree', 'add', '-q', '--detach', wt])
      const gitMs = performance.now() - t
      git(repo, root, ['worktree', 'remove', '--force', wt])
      if (r === 0) continue // warm-up
      wsOurs.push(oursMs)
      wsGit.push(gitMs)
    }
    const diffOursMs = median(ours)
    const diffGitMs = median(theirs)
    const workspaceOursMs = median(wsOurs)
    const worktreeMs = median(wsGit)
    return { diffRatio: diffOursMs / diffGitMs, diffOursMs, diffGitMs, workspaceRatio: workspaceOursMs / worktreeMs, workspaceOursMs, worktreeMs }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const files = Number(process.argv[2] ?? 10_000)
  const runs = Number(process.argv[3] ?? 7)
  const r = await benchGit({ files, runs })
  const f = (n: number) => n.toFixed(1).padStart(8)
  console.log(`git layer, ${files} files, median of ${runs} warm runs`)
  console.log(`                      ours ms   git ms    ratio`)
  console.log(`diff vs git diff HEAD ${f(r.diffOursMs)} ${f(r.diffGitMs)} ${r.diffRatio.toFixed(2).padStart(8)}`)
  console.log(`workspace vs worktree ${f(r.workspaceOursMs)} ${f(r.worktreeMs)} ${r.workspaceRatio.toFixed(2).padStart(8)}`)
}
