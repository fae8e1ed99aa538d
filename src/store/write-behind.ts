import type { Database } from 'bun:sqlite'
import { describeError, STANDALONE_LOGGER } from '../logger'

/**
 * Something with pending writes that can be done inside a transaction someone else opened. It
 * writes rows of about `budget` characters at most (always at least one row) and answers true
 * when some of what it held at the batch's first transaction (`fresh`) is left for the next one.
 */
export type Flusher = (budget: number, fresh: boolean) => boolean | void

/**
 * Characters one timed transaction writes at most. Writing is main-thread work (JSON.stringify,
 * then SQLite): a 1.35 MB batch of an agent's first burst of output took 12.5 ms to stringify
 * and 16 ms to insert, one transaction holding every socket and request for about 30 ms. Slices
 * of 256 Ki characters hold it for a few ms each, with the event loop running in between.
 */
const SLICE_CHARS = 256 * 1024

/**
 * Writes that may lag (events, session activity) are queued by their stores and written together,
 * in one transaction per batch, off the request path: a timer `delayMs` after the first write of
 * a batch. One transaction for a few hundred rows costs about what one row costs on its own, and
 * nothing here runs while a request is being answered. A batch larger than `sliceChars` is
 * written in several transactions, one per turn of the event loop; what was queued after the
 * batch began waits for the next batch, so a producer faster than the disk is not chased slice
 * after slice (its oldest events would leave the ring before their turn came anyway).
 */
export class WriteBehind {
  private readonly flushers: Flusher[] = []
  private batchTimer: ReturnType<typeof setTimeout> | null = null
  private sliceTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  constructor(
    private readonly db: Database,
    private readonly delayMs = 100,
    private readonly onError: (error: unknown) => void = (error) => STANDALONE_LOGGER.error('state.db write failed', { error: describeError(error) }),
    private readonly sliceChars = SLICE_CHARS,
  ) {}

  register(flusher: Flusher): void {
    this.flushers.push(flusher)
  }

  /** Asks for a flush soon; cheap to call on every write. */
  schedule(): void {
    if (this.batchTimer !== null || this.closed) return
    this.batchTimer = setTimeout(() => {
      this.batchTimer = null
      this.flush(this.sliceChars)
    }, this.delayMs)
    this.batchTimer.unref?.()
  }

  /**
   * Begins a batch of what is pending now, and writes it in one transaction: all of it, or rows of
   * about `budget` characters with the rest of the batch written on the next turns of the event
   * loop. Answers whether some was left.
   */
  flush(budget = Number.POSITIVE_INFINITY): boolean {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer)
    this.batchTimer = null
    return this.writeSlice(budget, true)
  }

  close(): void {
    this.flush()
    this.closed = true
  }

  private writeSlice(budget: number, fresh: boolean): boolean {
    if (this.sliceTimer !== null) clearTimeout(this.sliceTimer)
    this.sliceTimer = null
    if (this.closed || !this.write(budget, fresh)) return false
    this.sliceTimer = setTimeout(() => {
      this.sliceTimer = null
      this.writeSlice(this.sliceChars, false)
    }, 0)
    this.sliceTimer.unref?.()
    return true
  }

  /** True when a flusher has rows of the batch left; false after a failure too (the next schedule tries again). */
  private write(budget: number, fresh: boolean): boolean {
    let more = false
    try {
      this.db.transaction(() => {
        for (const flusher of this.flushers) if (flusher(budget, fresh) === true) more = true
      })()
    } catch (error) {
      this.onError(error)
      return false
    }
    return more
  }
}
