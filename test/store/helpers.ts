import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A temp STATE_DIR parent, removed on dispose; `stateDir` does not exist yet (openState makes it). */
export function scratchState() {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-store-')))
  return { root, stateDir: join(root, 'state'), [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) }
}
