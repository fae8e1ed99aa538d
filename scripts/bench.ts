/**
 * The whole-system benchmark: starts the compiled binary and prints ratios against references
 * measured in the same run (the machine is shared and noisy: ratios, not absolute times).
 * Usage: bun run bench [--json] [--quick]
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { benchFlood } from './bench-flood'
import { benchGit } from './bench-git'
import { benchHttp } from './bench-http'
import { benchRss } from './bench-rss'
import { benchWeb } from './bench-web'
import { benchState } from './bench-state'
import { benchWs } from './bench-ws'

const json = process.argv.includes('--json')
const quick = process.argv.includes('--quick')
const root = join(import.meta.dir, '..')
const binary = join(root, 'dist', 'cockpit-coder')

function log(line: string) {
  if (!json) console.error(line)
}

if (!existsSync(binary) || !process.argv.includes('--no-build')) {
  log('building dist/cockpit-coder …')
  const build = Bun.spawnSync([process.execPath, 'run', join(root, 'scripts', 'build.ts')], { cwd: root, stdout: 'ignore', stderr: 'inherit' })
  if (build.exitCode !== 0) process.exit(build.exitCode ?? 1)
}

const started = performance.now()
log('http: authenticated GET /api/session/{id} vs bare Bun.serve …')
const http = await benchHttp({ binary, seconds: quick ? 2 : 5 })
log('git: diff vs git CLI, workspace vs git worktree add (10k files) …')
const git = await benchGit({ files: 10_000, runs: quick ? 3 : 7 })
log('ws: terminal throughput, echo latency, events fan-out …')
const ws = await benchWs({ binary, quick })
log('rss: idle and with 50 terminals …')
const rss = await benchRss({ binary, terminals: 50 })
log('flood: an agent writing for ever while a client reads its events …')
const flood = await benchFlood({ binary, seconds: quick ? 4 : 8 })
log('web: page weight, navigation to live events in headless Chromium …')
const web = await benchWeb({ binary, navigations: quick ? 3 : 7 })
log('state: event append into state.db, restart with 1 000 sessions and 10 000 tasks …')
const state = await benchState({ binary, quick })
const totalS = (performance.now() - started) / 1000

const cpu = (await Bun.file('/proc/cpuinfo').text()).match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown cpu'
const machine = `${navigator.hardwareConcurrency} cores, ${cpu}, ${Math.round(require('node:os').totalmem() / 2 ** 30)} GiB, bun ${Bun.version}`

const f = (n: number, digits = 2) => n.toFixed(digits)
const rows: [string, string, string, string][] = [
  ['authenticated GET /api/session/{id}', `${f(http.oursRps, 0)} req/s`, `bare Bun.serve ${f(http.bareRps, 0)} req/s`, `${f(http.rpsRatio)}x`],
  ['git diff, 10k files, 10 changed', `${f(git.diffOursMs, 1)} ms`, `git diff HEAD ${f(git.diffGitMs, 1)} ms`, `${f(git.diffRatio)}x (target ≤ 2.0)`],
  ['task workspace, 10k files', `${f(git.workspaceOursMs, 0)} ms`, `git worktree add ${f(git.worktreeMs, 0)} ms`, `${f(git.workspaceRatio)}x (target ≤ 1.5)`],
  ['terminal throughput', `${f(ws.terminalMBps, 1)} MB/s`, `bare PTY ${f(ws.barePtyMBps, 1)} MB/s`, `${f(ws.throughputRatio)}x (target ≥ 0.5)`],
  ['keystroke echo round trip', `p50 ${f(ws.echoP50Ms)} ms, p99 ${f(ws.echoP99Ms)} ms`, '', ''],
  ['events fan-out (events kept in state.db)', `${ws.fanoutSubscribers} × ${ws.fanoutEvents} in order: ${ws.fanoutInOrder}, ${f(ws.fanoutEventsPerSecond, 0)} deliveries/s`, `in-memory hub ${f(ws.fanoutMemoryEventsPerSecond, 0)} deliveries/s`, `${f(ws.fanoutPersistedRatio)}x (target ≥ 0.9)`],
  ['event append, written behind to state.db', `${f(state.appendPersistedPerSecond, 0)} events/s`, `in-memory hub ${f(state.appendMemoryPerSecond, 0)} events/s`, `${f(state.appendRatio)}x`],
  ['restart: start to healthy, 1 000 sessions + 10 000 tasks', `${f(state.restartStartMs, 0)} ms`, `empty STATE_DIR ${f(state.emptyStartMs, 0)} ms`, `${f(state.restartStartMs / state.emptyStartMs)}x (budget 300 ms)`],
  ['binary start to healthy', `${f(http.oursStartMs, 0)} ms`, `bare Bun.serve ${f(http.bareStartMs, 0)} ms`, `${f(http.startRatio)}x`],
  ['requests while an agent floods', `p50 ${f(flood.requestP50Ms, 0)} ms, p99 ${f(flood.requestP99Ms, 0)} ms, max ${f(flood.requestMaxMs, 0)} ms`, `events ${f(flood.eventsMBps, 1)} MB/s`, ''],
  ['RSS growth under flood / cancel', `+${f((flood.maxRssKiB - flood.idleRssKiB) / 1024, 0)} MiB`, `cancel ${f(flood.cancelMs, 0)} ms`, ''],
  ['RSS idle / with 50 terminals', `${f(rss.idleKiB / 1024, 1)} / ${f(rss.withTerminalsKiB / 1024, 1)} MiB`, `${f(rss.perTerminalKiB, 0)} KiB per terminal`, ''],
  ['web cockpit JavaScript (all chunks)', `${f(web.jsGzipBytes / 1024, 1)} KiB gzipped`, `${f(web.jsBytes / 1024, 1)} KiB raw; CSS ${f(web.cssGzipBytes / 1024, 1)} KiB gz`, `${f(web.jsGzipBytes / (250 * 1024))} of budget (≤ 1.0)`],
  [
    'web: navigation to live events',
    web.eventsLiveMs ? `p50 ${f(web.eventsLiveMs.p50, 0)} ms, max ${f(web.eventsLiveMs.max, 0)} ms` : 'no Chromium',
    web.firstEventMs ? `first event p50 ${f(web.firstEventMs.p50, 0)} ms` : '',
    `${web.navigations} cold navigations`,
  ],
]

if (json) {
  console.log(JSON.stringify({ machine, totalS, http, git, ws, rss, flood, web, state }, null, 2))
} else {
  console.log(`\nCockpit Coder benchmark (${machine}; ${f(totalS, 0)} s)\n`)
  console.log('| measure | ours | reference | ratio |')
  console.log('| --- | --- | --- | --- |')
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
}
