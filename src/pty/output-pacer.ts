/** How fast a terminal's program may write before it is held back. */
export type OutputPace = {
  /** Output read at once before the rate applies (a `cat` of a small file arrives whole). */
  burstBytes: number
  /** Output read per second past the burst. */
  bytesPerSecond: number
}

/**
 * The server's pace for every terminal (session shells and agent terminals), chosen with
 * scripts/bench-echo.ts (figures on the Terminal class). 1 MiB/s is also what /ws/pty forwards to
 * one client (DEFAULT_PTY_FLOW): reading a flood faster than that only fed the repaints.
 */
export const DEFAULT_OUTPUT_PACE: OutputPace = {
  burstBytes: 1024 * 1024,
  bytesPerSecond: 1024 * 1024,
}

/** What the pacer needs of a PTY: the slave's termios flags now, and a way to type a character. */
export type FlowControlPort = {
  /** c_iflag of the terminal (0 once it is closed). */
  inputFlags(): number
  /** c_lflag of the terminal (0 once it is closed). */
  localFlags(): number
  /** Types `char` into the terminal; never called once the pacer is stopped. */
  send(char: string): void
}

export const XOFF = '\x13'
export const XON = '\x11'

/** termios bits; the values differ between Linux and the BSDs (macOS). */
const FLAGS =
  process.platform === 'linux' ? { IXON: 0o2000, IXANY: 0o4000, ISIG: 0o1 } : { IXON: 0x200, IXANY: 0x800, ISIG: 0x80 }

/** ^C, ^\ and ^Z: with ISIG the line discipline restarts stopped output on each (as on ^Q). */
const SIGNAL_CHARS = new Set(['\x03', '\x1c', '\x1a'])

/**
 * A pause shorter than this is not worth two characters and a timer: the bucket is given at least
 * this long to refill before output resumes.
 */
const MIN_PAUSE_MS = 20
/** Output resumes once the bucket holds this long's worth of the rate (or the whole burst). */
const RESUME_AFTER_MS = 50

/**
 * Paces a terminal's program the way a real terminal does when it cannot draw as fast as the
 * program writes: with XOFF/XON (^S/^Q), which the kernel's line discipline acts on when the
 * terminal has IXON set. Output past a token bucket (burstBytes, then bytesPerSecond) makes the
 * pacer type XOFF: the program then blocks in write() and uses no CPU, and nothing is read or
 * decoded for it; once the bucket has refilled a little it types XON. Nothing is lost or torn.
 *
 * With IXON off (a raw-mode program: vim, a TUI, `stty raw`), ^S/^Q would reach the program as
 * keystrokes, so the pacer types nothing and output is read as fast as it comes.
 *
 * The user's own ^S is respected: what the user typed is watched (typed()), and while the user's
 * pause stands the pacer neither stops nor resumes output. The kernel's rules for what ends a pause
 * are followed: ^Q, a signal character (^C, ^\, ^Z) with ISIG, any other character with IXANY.
 */
export class OutputPacer {
  /**
   * Bytes that may still be read now; below zero once output went past the bucket, down to minus
   * the burst: however late XOFF lands, a pause lasts at most about (burst / rate) + 50 ms.
   */
  private budget: number
  private budgetAt = performance.now()
  /** Our XOFF is in force (as far as we know: the user's input may have lifted it). */
  private stoppedByUs = false
  /** The user typed ^S with IXON on, and nothing since that would have resumed output. */
  private stoppedByUser = false
  private resumeTimer: ReturnType<typeof setTimeout> | undefined
  private ended = false
  private xoffs = 0

  constructor(
    private readonly pace: OutputPace,
    private readonly port: FlowControlPort,
  ) {
    if (!(pace.burstBytes > 0) || !(pace.bytesPerSecond > 0)) throw new Error('an output pace needs a positive burst and rate')
    this.budget = pace.burstBytes
  }

  /** How many times the pacer has stopped output (typed XOFF). */
  get pauses(): number {
    return this.xoffs
  }

  /** The pacer holds output back right now (its XOFF stands, and its XON is still to come). */
  get pausing(): boolean {
    return this.stoppedByUs
  }

  /** `bytes` were just read from the terminal: stops the program's output once past the bucket. */
  read(bytes: number): void {
    if (this.ended) return
    this.refill()
    this.budget = Math.max(this.budget - bytes, -this.pace.burstBytes)
    if (this.budget >= 0 || this.stoppedByUs || this.stoppedByUser) return
    if (!(this.port.inputFlags() & FLAGS.IXON)) {
      // A raw-mode program is not paced, and runs up no debt for the next cooked one to repay.
      this.budget = 0
      return
    }
    this.port.send(XOFF)
    this.xoffs++
    this.stoppedByUs = true
    this.scheduleResume()
  }

  /**
   * `data` is about to be written to the terminal as the user's input: follows what it does to
   * stopped output, as the line discipline will.
   */
  typed(data: string): void {
    if (this.ended || (!data.includes(XOFF) && !this.stoppedByUs && !this.stoppedByUser)) return
    const iflag = this.port.inputFlags()
    if (!(iflag & FLAGS.IXON)) return
    const anyRestarts = (iflag & FLAGS.IXANY) !== 0
    const signalsRestart = (this.port.localFlags() & FLAGS.ISIG) !== 0
    for (const char of data) {
      if (char === XOFF) {
        this.stoppedByUser = true
      } else if (char === XON || anyRestarts || (signalsRestart && SIGNAL_CHARS.has(char))) {
        // Output runs again; past the bucket, the next read stops it again (the timer stays, so
        // a pause of ours is always ended by one).
        this.stoppedByUser = false
        this.stoppedByUs = false
      }
    }
  }

  /**
   * Before the terminal is killed: lets a stopped program write again (a handler of SIGHUP or
   * SIGTERM that prints would otherwise block until SIGKILL), and paces no more.
   */
  release(): void {
    if (this.ended) return
    const stopped = this.stoppedByUs || this.stoppedByUser
    this.stop()
    if (stopped && this.port.inputFlags() & FLAGS.IXON) this.port.send(XON)
  }

  /** The terminal ended: no timer, no character typed from now on. */
  stop(): void {
    this.ended = true
    this.stoppedByUs = false
    this.stoppedByUser = false
    clearTimeout(this.resumeTimer)
    this.resumeTimer = undefined
  }

  private refill(): void {
    const now = performance.now()
    // (An unlimited rate times no time at all would be NaN.)
    const gained = now > this.budgetAt ? ((now - this.budgetAt) * this.pace.bytesPerSecond) / 1000 : 0
    this.budget = Math.min(this.pace.burstBytes, this.budget + gained)
    this.budgetAt = now
  }

  private resumeLevel(): number {
    return Math.min(this.pace.burstBytes, (this.pace.bytesPerSecond * RESUME_AFTER_MS) / 1000)
  }

  private scheduleResume(): void {
    clearTimeout(this.resumeTimer)
    const waitMs = Math.max(MIN_PAUSE_MS, ((this.resumeLevel() - this.budget) * 1000) / this.pace.bytesPerSecond)
    this.resumeTimer = setTimeout(() => this.resume(), waitMs)
    // A paced terminal must not keep the process alive; the Terminal stops the pacer when it ends.
    this.resumeTimer.unref?.()
  }

  private resume(): void {
    this.resumeTimer = undefined
    if (this.ended) return
    this.refill()
    // What was already in the PTY when XOFF arrived is read after it, and spends the bucket too.
    if (this.stoppedByUs && this.budget < this.resumeLevel()) {
      this.scheduleResume()
      return
    }
    const ours = this.stoppedByUs
    this.stoppedByUs = false
    // The user's pause stands; with IXON off (a program went raw since), the kernel already
    // restarted output when IXON was cleared, and ^Q would be a keystroke.
    if (!ours || this.stoppedByUser || !(this.port.inputFlags() & FLAGS.IXON)) return
    this.port.send(XON)
  }
}
