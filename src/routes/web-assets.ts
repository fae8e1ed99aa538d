import { join } from 'node:path'

/** One file of the web cockpit as the server holds it: `/index.html` or `/assets/<name>-<hash>.<ext>`. */
export type WebFile = { path: string; contentType: string; body: string }

/** The bundled page: the HTML (with the CSP nonce placeholder) and its hashed assets. */
export type WebBundle = { files: WebFile[] }

/** Replaced per response with the CSP nonce of xterm.js's own <style> elements (see src/web/style-nonce.ts). */
export const CSP_NONCE_PLACEHOLDER = '__COCKPIT_CSP_NONCE__'

const WEB_ENTRY = join(import.meta.dir, '..', 'web', 'index.html')

/** One file of the page as the compiled binary holds it: its bytes are read from `embeddedPath` ($bunfs) when first served. */
export type EmbeddedWebFile = { path: string; contentType: string; embeddedPath: string }

let embedded: EmbeddedWebFile[] | null = null
let readEmbedded: Promise<WebBundle> | null = null
let builtFromSource: Promise<WebBundle> | null = null

/**
 * scripts/build.ts bundles the page at build time, embeds its files in the binary and registers
 * them here before main.ts runs, so the compiled binary serves it with no files beside it.
 * Registered as embedded files read on first use, not as a module holding their text: a 385 KiB
 * JSON module cost every start about 8 ms before the first line of main.ts ran (scripts/bench-start.ts,
 * `--version` runs of the binary with and without it), and most starts never serve the page.
 */
export function embedWebFiles(files: EmbeddedWebFile[]): void {
  embedded = files
  readEmbedded = null
}

/**
 * Bundles src/web with Bun's bundler, in memory: hashed names for everything but the HTML, which
 * names them relatively (`./assets/…`), so the page also works behind a path-prefix proxy.
 */
export async function bundleWebPage(options: { minify?: boolean } = {}): Promise<WebBundle> {
  const result = await Bun.build({
    entrypoints: [WEB_ENTRY],
    target: 'browser',
    minify: options.minify ?? true,
    // xterm.js is loaded only when the Terminal screen opens (a dynamic import, its own chunk).
    splitting: true,
    naming: { entry: '[name].[ext]', chunk: 'assets/[name]-[hash].[ext]', asset: 'assets/[name]-[hash].[ext]' },
  })
  if (!result.success) throw new Error(`bundling the web cockpit failed: ${result.logs.map(String).join('\n')}`)
  const files: WebFile[] = []
  for (const output of result.outputs) {
    files.push({ path: output.path.replace(/^\.\//, '/'), contentType: output.type, body: await output.text() })
  }
  if (!files.some((file) => file.path === '/index.html')) throw new Error('bundling the web cockpit produced no index.html')
  return { files }
}

/**
 * The page this process serves: the embedded bundle in a built binary, else (bun run dev, tests)
 * one bundle of the source made on first use.
 */
export function loadWebBundle(): Promise<WebBundle> {
  if (embedded) {
    const files = embedded
    readEmbedded ??= Promise.all(files.map(async ({ path, contentType, embeddedPath }) => ({ path, contentType, body: await Bun.file(embeddedPath).text() }))).then(
      (read) => ({ files: read }),
      (error: unknown) => {
        readEmbedded = null
        throw error
      },
    )
    return readEmbedded
  }
  builtFromSource ??= bundleWebPage().catch((error: unknown) => {
    // A later request may try again (a syntax error fixed during `bun run dev`).
    builtFromSource = null
    throw error
  })
  return builtFromSource
}
