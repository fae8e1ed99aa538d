/**
 * Entry points of their own inside the compiled binary, which scripts/build.ts writes: the git and
 * terminal workers, and the packages loaded when first used (lazy-packages.ts). The binary's
 * modules live in Bun's virtual /$bunfs/root/, and a module's URL there is that of the entry point
 * it was bundled into (the server's, or a worker's such as git/worker.js), so every entry is found
 * from that root.
 */
const BUNFS_ROOT = '$bunfs/root/'
const at = import.meta.url.indexOf(BUNFS_ROOT)
const root = at === -1 ? null : import.meta.url.slice(0, at + BUNFS_ROOT.length)

/** The URL of the binary's entry point at `path` (`git/worker.js`); null when run from source. */
export function binaryEntryUrl(path: string): string | null {
  return root === null ? null : root + path
}
