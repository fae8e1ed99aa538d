/**
 * Builds dist/cockpit-coder: one executable holding the server, the git layer, the agents, the
 * mock agent and the web cockpit (terminals use Bun's own PTY, so there is no native library to embed).
 * The page is bundled first (src/web, hashed asset names) and handed to the server through a
 * generated entry that registers it before src/main.ts runs: no files beside the binary, no CDN.
 * Identifiers are not minified: Elysia's ahead-of-time compiler reads handler source.
 * Usage: bun run build [--outfile path]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
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
  writeFileSync(join(generated, 'web-bundle.json'), JSON.stringify(web))
  // Imports run in order: the bundle is registered before main.ts builds the app.
  writeFileSync(
    join(generated, 'register-web.ts'),
    `import { embedWebBundle } from ${JSON.stringify(join(root, 'src', 'routes', 'web-assets.ts'))}\n` +
      `import bundle from './web-bundle.json'\nembedWebBundle(bundle)\n`,
  )
  writeFileSync(join(generated, 'entry.ts'), `import './register-web.ts'\nimport ${JSON.stringify(join(root, 'src', 'main.ts'))}\n`)
  // The git worker's own entry beside it, so the binary holds it at /$bunfs/root/git/worker.js (src/git/off-thread.ts).
  mkdirSync(join(generated, 'git'))
  writeFileSync(join(generated, 'git', 'worker.ts'), `import ${JSON.stringify(join(root, 'src', 'git', 'worker.ts'))}\n`)

  const build = Bun.spawnSync(
    [process.execPath, 'build', '--compile', '--minify-whitespace', '--minify-syntax', '--bytecode', '--format=esm', '--sourcemap', join(generated, 'entry.ts'), join(generated, 'git', 'worker.ts'), '--outfile', outfile],
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
