/** What the heartbeat scheduler needs of a stream. */
export interface Beating {
  /** Set by every write, cleared by each tick. */
  wroteSinceTick: boolean
  idleTicks: number
  /** Writes a heartbeat; false when it could not now (bytes pending, an event half written). */
  beat (): boolean
}

// A stream must hear from the server after `interval` ms of silence. Rather than a timer per stream,
// one timer per distinct interval ticks ten times an interval and counts, for each stream, the ticks
// it stayed silent: a write costs one boolean store, a tick one pass over the streams (20,000 streams
// at 15 s: about 13,000 cheap steps a second).
const TICKS_PER_INTERVAL = 10

/**
 * One tick for one stream. A write seen at a tick came at most one tick before it, so it counts as
 * one silent tick: the beat then comes 0.9 to 1.0 intervals after the last write, and an idle stream
 * beats once an interval. No silence is longer than the interval (plus the timer's own lateness).
 */
export function tickStream (stream: Beating): void {
  if (stream.wroteSinceTick) {
    stream.wroteSinceTick = false
    stream.idleTicks = 1
  } else if (++stream.idleTicks >= TICKS_PER_INTERVAL && stream.beat()) {
    stream.idleTicks = 0 // a beat that could not go out is tried again at the next tick
  }
}

class HeartbeatGroup {
  readonly members = new Set<Beating>()
  readonly #timer: NodeJS.Timeout

  constructor (interval: number) {
    this.#timer = setInterval(() => { for (const stream of this.members) tickStream(stream) }, Math.max(1, Math.floor(interval / TICKS_PER_INTERVAL)))
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}

export class HeartbeatScheduler {
  readonly #groups = new Map<number, HeartbeatGroup>()

  /** Takes a stream whose head was just written: that counts as a write. */
  add (stream: Beating, interval: number): void {
    stream.wroteSinceTick = true
    let group = this.#groups.get(interval)
    if (group === undefined) this.#groups.set(interval, group = new HeartbeatGroup(interval))
    group.members.add(stream)
  }

  remove (stream: Beating, interval: number): void {
    const group = this.#groups.get(interval)
    if (group === undefined) return
    group.members.delete(stream)
    if (group.members.size === 0) {
      group.stop()
      this.#groups.delete(interval)
    }
  }

  /** Number of timers running: one per distinct interval in use. */
  get timers (): number {
    return this.#groups.size
  }
}
