/**
 * Installs the real agent CLIs, at pinned versions, from npm into a cache outside the repo, so
 * the tests in test/agents-real can run them offline against the scripted model API.
 *
 *   bun run install-agents                 install what is missing, print the bin directory
 *   bun run install-agents --print-path    print the bin directory only (for PATH=...)
 *   bun run install-agents --only codex,gemini
 *
 * Each package goes to <root>/<name>@<version> (`npm install --prefix`), and <root>/bin links
 * every CLI, so one PATH entry finds them all. <root> is $COCKPIT_AGENTS_DIR, else
 * ~/.cache/cockpit-coder/agents. A package counts as installed when its marker file exists, which
 * is written only after its CLIs answered `--version`: so a warm run only stats files, and an
 * install whose platform binary did not land (an optionalDependency skipped, a postinstall that
 * wanted to download from GitHub) is reported, not marked.
 *
 * aider is not here: it is a Python package and PyPI is not reachable from where this runs.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export type PinnedAgentPackage = {
  /** The cache directory's name and what the README calls it. */
  name: string
  pkg: string
  version: string
  /** The executables it provides (linked into <root>/bin). */
  bins: string[]
  /** What proves each executable starts (default `--version`). */
  check?: string[]
}

/** The versions proven against the scripted model API (see README, Agents). */
export const PINNED_AGENT_PACKAGES: readonly PinnedAgentPackage[] = [
  { name: 'claude', pkg: '@anthropic-ai/claude-code', version: '2.1.332', bins: ['claude'] },
  { name: 'claude-agent-acp', pkg: '@zed-industries/claude-agent-acp', version: '0.23.1', bins: ['claude-agent-acp'] },
  { name: 'codex', pkg: '@openai/codex', version: '0.171.0', bins: ['codex'] },
  { name: 'codex-acp', pkg: '@zed-industries/codex-acp', version: '0.16.0', bins: ['codex-acp'], check: ['--help'] },
  { name: 'gemini', pkg: '@google/gemini-cli', version: '0.61.0', bins: ['gemini'] },
  { name: 'opencode', pkg: 'opencode-ai', version: '1.18.33', bins: ['opencode'] },
  { name: 'cline', pkg: 'cline', version: '3.0.65', bins: ['cline'] },
]

const MARKER = '.cockpit-installed'

export function agentsRoot(env: Record<string, string | undefined> = process.env): string {
  return env.COCKPIT_AGENTS_DIR || join(env.HOME || homedir(), '.cache', 'cockpit-coder', 'agents')
}

export function agentsBinDir(env: Record<string, string | undefined> = process.env): string {
  return join(agentsRoot(env), 'bin')
}

function packageDir(root: string, entry: PinnedAgentPackage): string {
  return join(root, `${entry.name}@${entry.version}`)
}

function isInstalled(root: string, entry: PinnedAgentPackage): boolean {
  const dir = packageDir(root, entry)
  return existsSync(join(dir, MARKER)) && entry.bins.every((bin) => existsSync(join(dir, 'node_modules', '.bin', bin)))
}

async function run(argv: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const proc = Bun.spawn(argv, { cwd, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  clearTimeout(timer)
  return { code, output: (out + err).trim() }
}

function installedVersion(dir: string, entry: PinnedAgentPackage): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'node_modules', entry.pkg, 'package.json'), 'utf8')) as { version?: string }).version ?? null
  } catch {
    return null
  }
}

/** Installs one package and checks its CLIs start; returns an error sentence or null. */
async function install(root: string, entry: PinnedAgentPackage): Promise<string | null> {
  const dir = packageDir(root, entry)
  if (installedVersion(dir, entry) !== entry.version) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    // A package.json of its own keeps npm from walking up to some other project's, and a bare
    // `npm install name@1.2.3` would install a same-named folder of the cwd instead.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, dependencies: { [entry.pkg]: entry.version } }, null, 2))
    const npm = await run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error', '--include=optional'], dir, 10 * 60_000)
    if (npm.code !== 0) return `npm install ${entry.pkg}@${entry.version} failed (exit ${npm.code}): ${npm.output.slice(-2000)}`
  }
  for (const bin of entry.bins) {
    const path = join(dir, 'node_modules', '.bin', bin)
    if (!existsSync(path)) return `${entry.pkg}@${entry.version} installed no ${bin} executable`
    // Where a platform binary did not land, --version fails: better here than in a test.
    const args = entry.check ?? ['--version']
    const check = await run([path, ...args], dir, 120_000)
    if (check.code !== 0) return `${bin} ${args.join(' ')} failed after installing ${entry.pkg}@${entry.version} (exit ${check.code}): ${check.output.slice(-1000)}`
  }
  writeFileSync(join(dir, MARKER), `${entry.pkg}@${entry.version}\n`)
  return null
}

function link(root: string, entry: PinnedAgentPackage): void {
  const binDir = join(root, 'bin')
  mkdirSync(binDir, { recursive: true })
  for (const bin of entry.bins) {
    const target = join(packageDir(root, entry), 'node_modules', '.bin', bin)
    const linkPath = join(binDir, bin)
    let current: string | null = null
    try {
      current = readlinkSync(linkPath)
    } catch {}
    if (current === target) continue
    rmSync(linkPath, { force: true })
    symlinkSync(target, linkPath)
  }
}

async function main(argv: string[]): Promise<number> {
  const printPathOnly = argv.includes('--print-path')
  const onlyIndex = argv.indexOf('--only')
  const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',').filter(Boolean)) : null
  const root = agentsRoot()
  if (printPathOnly) {
    console.log(agentsBinDir())
    return 0
  }
  const wanted = PINNED_AGENT_PACKAGES.filter((entry) => only === null || only.has(entry.name))
  const missing = wanted.filter((entry) => !isInstalled(root, entry))
  const failures: string[] = []
  // Two at a time: npm is mostly waiting on the network, the machine has two cores.
  const queue = [...missing]
  const worker = async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      const started = Date.now()
      console.log(`install-agents: installing ${entry.pkg}@${entry.version}`)
      const error = await install(root, entry)
      if (error) failures.push(error)
      else console.log(`install-agents: ${entry.pkg}@${entry.version} ready (${Math.round((Date.now() - started) / 1000)} s)`)
    }
  }
  await Promise.all([worker(), worker()])
  for (const entry of wanted) if (isInstalled(root, entry)) link(root, entry)
  const present = wanted.length - missing.length
  console.log(`install-agents: ${present} already installed, ${missing.length - failures.length} installed now, ${failures.length} failed`)
  console.log('install-agents: aider is not installed: it is a Python package (pip install aider-chat) and PyPI is not reachable here')
  for (const failure of failures) console.error(`install-agents: ${failure}`)
  console.log(`install-agents: put this on PATH: ${agentsBinDir()}`)
  return failures.length === 0 ? 0 : 1
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)))
