import type { Database } from 'bun:sqlite'
import { describeError, STANDALONE_LOGGER } from '../logger'

/** Something with pending writes that can be done inside a transaction someone else opened. */
export type Flusher = () => void

/**
 * Writes that may lag (events, session activity) are queued by their stores and written together,
 * in one transaction per batch, off the request path: a timer `delayMs` after the first write of
 * a batch. One transaction for a few hundred rows costs about what one row costs on its own, and
 * nothing here runs while a request is being answered.
 */
export class WriteBehind {
  private readonly flushers: Flusher[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  constructor(
    private readonly db: Database,
    private readonly delayMs = 100,
    private readonly onError: (error: unknown) => void = (error) => STANDALONE_LOGGER.error('state.db write failed', { error: describeError(error) }),
  ) {}

  register(flusher: Flusher): void {
    this.flushers.push(flusher)
  }

  /** Asks for a flush soon; cheap to call on every write. */
  schedule(): void {
    if (this.timer !== null || this.closed) return
    this.timer = setTimeout(() => this.flush(), this.delayMs)
    this.timer.unref?.()
  }

  /** Writes everything pending now, in one transaction. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.closed) return
    try {
      this.db.transaction(() => {
        for (const flusher of this.flushers) flusher()
      })()
    } catch (error) {
      this.onError(error)
    }
  }

  close(): void {
    this.flush()
    this.closed = true
  }
}
