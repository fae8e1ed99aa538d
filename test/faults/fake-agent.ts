import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * One misbehaving agent CLI for the fault tests, run as AGENT_CUSTOM_CMD. The instruction (its
 * only argument) picks the misbehaviour and carries the test's unique marker, so every process
 * it starts can be found in the process table by that marker.
 *
 * - `crash-exit <marker>`: prints, leaves a background child, exits 3.
 * - `crash-signal <marker>`: prints, then kills itself with SIGSEGV.
 * - `ignore-term <marker>`: ignores SIGHUP/SIGTERM/SIGINT (its children inherit that) and never ends.
 * - `flood <marker>`: writes `<marker>` lines as fast as it can, for ever.
 */
const SCRIPT = `#!/bin/sh
mode="\${1%% *}"
marker="\${1#* }"
case "$mode" in
  crash-exit)
    echo "working on it"
    sh -c 'sleep 300; : "$0"' "$marker-child" &
    echo "fatal: the model ran out of tokens"
    exit 3 ;;
  crash-signal)
    echo "about to crash"
    kill -SEGV $$ ;;
  ignore-term)
    trap '' HUP TERM INT
    sh -c 'while :; do sleep 1; done; : "$0"' "$marker-child" &
    echo "ignoring SIGTERM"
    while :; do sleep 1; done ;;
  flood)
    exec yes "$marker" ;;
esac
echo "unknown mode $mode"
exit 64
`

export type FakeAgent = { path: string; dir: string; [Symbol.dispose](): void }

export function writeFakeAgent(): FakeAgent {
  const dir = mkdtempSync(join(tmpdir(), 'cockpit-fake-agent-'))
  const path = join(dir, 'misbehaving-agent')
  writeFileSync(path, SCRIPT)
  chmodSync(path, 0o755)
  return { path, dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A marker no other test or process uses. */
export function uniqueMarker(what: string): string {
  return `cockpit-fault-${what}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}
