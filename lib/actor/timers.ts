/** A message scheduled by `after` or `every`, owned by one stream. */
export class Timer<Msg = unknown> {
  handle: NodeJS.Timeout | undefined
  /** An `every` tick is waiting in the mailbox: the next one is skipped, not queued. */
  queued = false

  constructor (readonly msg: Msg, readonly repeat: boolean) {}
}

export interface TimerOwner {
  fire (timer: Timer): void
}

/** The timers of one stream, all cleared on one path when it stops. */
export class Timers {
  readonly #active = new Set<Timer>()

  constructor (readonly owner: TimerOwner) {}

  start (ms: number, msg: unknown, repeat: boolean): () => void {
    const timer = new Timer(msg, repeat)
    const fire = (): void => {
      if (!repeat) this.#active.delete(timer)
      this.owner.fire(timer)
    }
    timer.handle = repeat ? setInterval(fire, ms) : setTimeout(fire, ms)
    this.#active.add(timer)
    return () => this.cancel(timer)
  }

  cancel (timer: Timer): void {
    clearTimeout(timer.handle)
    this.#active.delete(timer)
  }

  get size (): number {
    return this.#active.size
  }

  clear (): void {
    for (const timer of this.#active) clearTimeout(timer.handle)
    this.#active.clear()
  }
}
