/**
 * Packages only some starts use, loaded when first used. Run from source they come from
 * node_modules; in the compiled binary each is an entry point of its own (scripts/build.ts writes
 * one for every name in LAZY_PACKAGES), at /$bunfs/root/lazy/<lazyEntryName>.js, so the
 * start-up bundle does not hold them. A dynamic import of a package inside the bundle costs
 * nothing to evaluate until called, but the bundle itself is loaded whole on every start: a
 * compiled hello world took 13-15 ms to its first line, the same with isomorphic-git, Elysia,
 * the swagger plugin, the ACP SDK and qrcode behind a dynamic import never called 25-29 ms
 * (6 runs each, interleaved).
 */
import { binaryEntryUrl } from './entry-points'

export type LazyPackages = {
  'isomorphic-git': typeof import('isomorphic-git')
  // CommonJS: its module.exports is the namespace's default, which its types do not declare.
  qrcode: { default: typeof import('qrcode') }
  // Its own copy of Elysia comes along: src/http/openapi.ts calls the plugin's answers, never `.use`s it.
  '@elysiajs/swagger': typeof import('@elysiajs/swagger')
}

/** What scripts/build.ts makes an entry point of. */
export const LAZY_PACKAGES: readonly (keyof LazyPackages)[] = ['isomorphic-git', 'qrcode', '@elysiajs/swagger']

/** The entry point's file name (no extension) under lazy/: `@elysiajs/swagger` → `elysiajs-swagger`. */
export function lazyEntryName(name: keyof LazyPackages): string {
  return name.replace(/^@/, '').replaceAll('/', '-')
}

/** The package's module namespace, as `import(name)` gives it. */
export async function importLazy<N extends keyof LazyPackages>(name: N): Promise<LazyPackages[N]> {
  const entry = binaryEntryUrl(`lazy/${lazyEntryName(name)}.js`)
  // A specifier the bundler cannot read, so it leaves the import to run time (and out of the bundle).
  const specifier: string = entry ?? name
  const module: unknown = await import(specifier)
  // The entry point scripts/build.ts writes hands the namespace over as its default export.
  return (entry === null ? module : (module as { default: unknown }).default) as LazyPackages[N]
}
