import { constants } from 'node:os'
import type { Subprocess } from 'bun'
import { SpawnError } from '../errors'
import { groupAlive, terminateGroup } from './process-group'
import { OutputStreamer, type OutputStreamLimits } from '../events'
import { TailBuffer } from './output'

export type CommandStatus = 'running' | 'exited' | 'timedOut' | 'killed'

/** What `GET /api/cmd/:id` answers, for a running or a finished command. */
export type CommandView = {
  /** True when the command exited with code 0. */
  ok: boolean
  cmdId: string
  status: CommandStatus
  /** Exit code; 128 + signal number when a signal ended it (as a shell reports it); null while running. */
  code: number | null
  /** The kept tail of stdout and stderr, interleaved as they arrived. */
  output: string
  durationMs: number
  timedOut: boolean
  truncated: boolean
}

export type CommandSpec = {
  id: string
  /** What runs: the absolute path of the program found on PATH, then the arguments. */
  argv: string[]
  /** The program name as the caller wrote it, given to the child as argv[0] (as a shell does). */
  programName: string
  cwd: string
  env: Record<string, string>
  timeoutMs: number
  outputLimitBytes: number
  killGraceMs: number
  streamLimits: OutputStreamLimits
  onOutput: (data: string) => void
  onExit: (code: number | null, durationMs: number) => void
}

/** After the group is dead, how long pipes may stay open (held by a process that left the group). */
const DRAIN_AFTER_EXIT_MS = 1000

/**
 * One command from spawn to its exit event. The child leads its own process group (setsid), so a
 * timeout, a cancel or the end of the command itself kills everything it started: when the leader
 * exits, whatever it left running in its group (a backgrounded server, `sleep &`) is terminated too.
 */
export class RunningCommand {
  readonly id: string
  readonly done: Promise<CommandView>
  private readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>
  private readonly tail: TailBuffer
  private readonly streamer: OutputStreamer
  private readonly startedAt = performance.now()
  private endedAt: number | null = null
  private status: CommandStatus = 'running'
  private code: number | null = null
  private stopReason: 'timedOut' | 'killed' | null = null
  private terminating: Promise<void> | null = null
  private silent = false
  private readonly readers: { cancel(): Promise<void> }[] = []

  constructor(private readonly spec: CommandSpec) {
    this.id = spec.id
    this.tail = new TailBuffer(spec.outputLimitBytes)
    this.streamer = new OutputStreamer((data) => {
      if (!this.silent) spec.onOutput(data)
    }, spec.streamLimits)
    try {
      this.proc = Bun.spawn(spec.argv, {
        argv0: spec.programName,
        cwd: spec.cwd,
        env: spec.env,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        detached: true,
      })
    } catch (error) {
      throw new SpawnError(`Could not start ${spec.argv[0]}: ${(error as Error).message}`)
    }
    this.done = this.run()
  }

  get running(): boolean {
    return this.status === 'running'
  }

  get pid(): number {
    return this.proc.pid
  }

  view(): CommandView {
    const end = this.endedAt ?? performance.now()
    return {
      ok: this.status !== 'running' && this.code === 0,
      cmdId: this.id,
      status: this.status,
      code: this.code,
      output: this.tail.text(),
      durationMs: Math.round(end - this.startedAt),
      timedOut: this.status === 'timedOut',
      truncated: this.tail.truncated,
    }
  }

  /** Kills the whole group; `done` resolves once it is gone. A finished command is left as it is. */
  stop(reason: 'timedOut' | 'killed'): Promise<CommandView> {
    // Once the leader has exited on its own, the command's result is decided; only stragglers are being reaped.
    if (this.endedAt === null && this.stopReason === null) {
      this.stopReason = reason
      void this.terminate()
    }
    return this.done
  }

  /** No more events from this command: its session is ending and its bus is being closed. */
  silence(): void {
    this.silent = true
    this.streamer.discard()
  }

  private terminate(): Promise<void> {
    // Never rejects: a group that cannot be signalled (EPERM) is reported in the output, and the
    // command still ends, so its concurrency slot is freed.
    this.terminating ??= terminateGroup(this.proc.pid, this.spec.killGraceMs).catch((error: Error) => {
      this.appendOutput(`\n[cockpit: could not stop the command's process group: ${error.message}]\n`)
    })
    return this.terminating
  }

  private async run(): Promise<CommandView> {
    const timer = setTimeout(() => void this.stop('timedOut'), this.spec.timeoutMs)
    const pumps = Promise.all([this.pump(this.proc.stdout), this.pump(this.proc.stderr)])
    await this.proc.exited
    this.endedAt = performance.now()
    clearTimeout(timer)
    if (this.terminating || groupAlive(this.proc.pid)) await this.terminate()
    const drained = await Promise.race([pumps.then(() => true), Bun.sleep(DRAIN_AFTER_EXIT_MS).then(() => false)])
    if (!drained) {
      // A process that escaped the group (its own setsid) still holds the pipe; stop reading it.
      await Promise.all(this.readers.map((reader) => reader.cancel()))
      this.appendOutput('\n[cockpit: output stopped; a process outside the command\'s group kept its pipe open]\n')
    }
    this.code = exitCodeOf(this.proc)
    this.status = this.stopReason ?? 'exited'
    this.streamer.finish()
    const view = this.view()
    if (!this.silent) this.spec.onExit(view.code, view.durationMs)
    return view
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader()
    this.readers.push(reader)
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        this.appendOutput(decoder.decode(value, { stream: true }))
      }
      this.appendOutput(decoder.decode())
    } catch (error) {
      this.appendOutput(`\n[cockpit: reading output failed: ${(error as Error).message}]\n`)
    }
  }

  private appendOutput(text: string): void {
    if (text === '') return
    this.tail.append(text)
    this.streamer.write(text)
  }
}

function exitCodeOf(proc: Subprocess): number | null {
  if (proc.exitCode !== null) return proc.exitCode
  if (proc.signalCode) {
    const number = constants.signals[proc.signalCode as keyof typeof constants.signals]
    return typeof number === 'number' ? 128 + number : null
  }
  return null
}
