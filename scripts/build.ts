/**
 * Builds dist/cockpit-coder: one executable holding the server, the git layer, the agents and
 * the mock agent (terminals use Bun's own PTY, so there is no native library to embed).
 * Identifiers are not minified: Elysia's ahead-of-time compiler reads handler source.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dir, '..')
const outfile = join(root, 'dist', 'cockpit-coder')
mkdirSync(join(root, 'dist'), { recursive: true })

const started = performance.now()
const build = Bun.spawnSync(
  [process.execPath, 'build', '--compile', '--minify-whitespace', '--minify-syntax', '--sourcemap', join(root, 'src', 'main.ts'), '--outfile', outfile],
  { cwd: root, stdout: 'inherit', stderr: 'inherit' },
)
if (build.exitCode !== 0) {
  console.error(`build failed (exit ${build.exitCode})`)
  process.exit(build.exitCode ?? 1)
}
console.log(`built ${outfile} in ${Math.round(performance.now() - started)} ms`)
