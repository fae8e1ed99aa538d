/**
 * Builds dist/cockpit-coder: one executable holding the server, the git layer, the agents, the
 * mock agent and the web cockpit (terminals use Bun's own PTY, so there is no native library to embed).
 * The page is bundled first (src/web, hashed asset names), its files embedded, and handed to the server
 * through a generated entry that registers them before src/main.ts runs: no files beside the binary, no CDN.
 * Identifiers are not minified: Elysia's ahead-of-time compiler reads handler source.
 * Usage: bun run build [--outfile path]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { LAZY_PACKAGES, lazyEntryName } from '../src/lazy-packages'
import { bundleWebPage } from '../src/routes/web-assets'

const root = join(import.meta.dir, '..')
const outfileArg = process.argv.indexOf('--outfile')
const outfile = outfileArg === -1 ? join(root, 'dist', 'cockpit-coder') : resolve(process.argv[outfileArg + 1] ?? '')
mkdirSync(dirname(outfile), { recursive: true })

const started = performance.now()
const web = await bundleWebPage()
const webBytes = web.files.reduce((sum, file) => sum + file.body.length, 0)

// A temp dir per build: the tests and the benchmark may build at the same time.
const generated = mkdtempSync(join(tmpdir(), 'cockpit-build-'))
try {
  // Each file of the page is embedded as a file ($bunfs), not as a module holding its text: the
  // binary reads them on first use (src/routes/web-assets.ts says what a module of them cost each start).
  mkdirSync(join(generated, 'web'))
  const imports: string[] = []
  const entries: string[] = []
  web.files.forEach((file, index) => {
    const name = `${index}-${basename(file.path)}`
    writeFileSync(join(generated, 'web', name), file.body)
    imports.push(`import file${index} from ${JSON.stringify(`./web/${name}`)} with { type: 'file' }`)
    entries.push(`{ path: ${JSON.stringify(file.path)}, contentType: ${JSON.stringify(file.contentType)}, embeddedPath: file${index} }`)
  })
  // Imports run in order: the files are registered before main.ts builds the app.
  writeFileSync(
    join(generated, 'register-web.ts'),
    `import { embedWebFiles } from ${JSON.stringify(join(root, 'src', 'routes', 'web-assets.ts'))}\n` +
      `${imports.join('\n')}\nembedWebFiles([\n  ${entries.join(',\n  ')},\n])\n`,
  )
  writeFileSync(join(generated, 'entry.ts'), `import './register-web.ts'\nimport ${JSON.stringify(join(root, 'src', 'main.ts'))}\n`)
  // A worker's own entry beside it, so the binary holds it at /$bunfs/root/<dir>/worker.js
  // (src/entry-points.ts). A worker runs for as long as the server does: the normal JIT
  // thresholds, not the start-up ones (below).
  const workerEntry = (dir: string, source: string): string => {
    mkdirSync(join(generated, dir))
    const file = join(generated, dir, 'worker.ts')
    writeFileSync(file, `import ${JSON.stringify(source)}\nBun.unsafe.setJITPolicy(1)\n`)
    return file
  }
  const workerEntries = [
    // The git worker (src/git/off-thread.ts).
    workerEntry('git', join(root, 'src', 'git', 'worker.ts')),
    // Each terminal's thread (src/pty/pty-thread.ts).
    workerEntry('pty', join(root, 'src', 'pty', 'pty-worker.ts')),
  ]

  // Packages only some starts use, each an entry point of its own (src/lazy-packages.ts says why and how they are loaded).
  mkdirSync(join(generated, 'lazy'))
  const lazyEntries = LAZY_PACKAGES.map((name) => {
    const file = join(generated, 'lazy', `${lazyEntryName(name)}.ts`)
    // As a dynamic import: the namespace (with a CommonJS package's default) exactly as `import(name)` gives it from source.
    writeFileSync(file, `export default await import(${JSON.stringify(Bun.resolveSync(name, root))})\n`)
    return file
  })

  // --compile-jit-policy: the binary starts with JavaScriptCore's tier-up thresholds 64 times
  // higher, so the code that runs once at start-up (module bodies, Elysia composing the routes,
  // the schemas) stays in the interpreter instead of being compiled by the JIT on one of the two
  // cores while start-up waits; serve.ts sets the normal policy back once it listens and has
  // printed. Start to healthy (scripts/bench-start.ts's way, 21-25 runs each, interleaved, load
  // 2.5-3.6): policy 1 median 118 and 153 ms, 4: 109, 16: 106 and 140, 64: 103 and 140, 1000: 130.
  const build = Bun.spawnSync(
    [process.execPath, 'build', '--compile', '--minify-whitespace', '--minify-syntax', '--bytecode', '--format=esm', '--compile-jit-policy=64', '--sourcemap', join(generated, 'entry.ts'), ...workerEntries, ...lazyEntries, '--outfile', outfile],
    { cwd: root, stdout: 'inherit', stderr: 'inherit' },
  )
  if (build.exitCode !== 0) {
    console.error(`build failed (exit ${build.exitCode})`)
    process.exit(build.exitCode ?? 1)
  }
} finally {
  rmSync(generated, { recursive: true, force: true })
}
console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms (web cockpit: ${web.files.length} files, ${Math.round(webBytes / 1024)} KiB)`)
