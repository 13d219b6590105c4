/**
 * forward()'s `idleTimeout`: calls `onIdle` once the upstream has kept the stream waiting for `ms`.
 * The clock runs only between `waiting()` and `heard()`, so time spent waiting for the client to read
 * never counts. One timer at most, re-armed only when it fires: an event costs a clock read, not a
 * timer.
 */
export class IdleWatch {
  /** True once `onIdle` was called. */
  fired = false
  #since = 0
  #waiting = false
  #timer: NodeJS.Timeout | undefined

  constructor (readonly ms: number, readonly onIdle: () => void) {}

  waiting (): void {
    this.#since = Date.now()
    this.#waiting = true
    this.#timer ??= this.#arm(this.ms)
  }

  heard (): void {
    this.#waiting = false
  }

  /** The upstream sent something that is not an event (a comment, a heartbeat): it is alive. */
  alive (): void {
    if (this.#waiting) this.#since = Date.now()
  }

  clear (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#waiting = false // an immediate already queued finds nothing to do
  }

  #arm (ms: number): NodeJS.Timeout {
    return setTimeout(this.#check, ms).unref() // the stream's socket keeps the process alive, not this
  }

  #check = (): void => {
    this.#timer = undefined
    if (!this.#waiting) return
    const left = this.#since + this.ms - Date.now()
    if (left > 0) {
      this.#timer = this.#arm(left)
      return
    }
    // The deadline passed, maybe only because the event loop was blocked: timers run before the poll
    // phase, so let I/O already waiting on the socket through first, then decide.
    const since = this.#since
    setImmediate(() => {
      if (!this.#waiting || this.#since !== since || this.fired) return
      this.fired = true
      this.onIdle()
    })
  }
}
