// What the load generator expects of every stream during one scenario step, and what it counted.

/** What the clients counted of one phase: every event of every stream, in order. */
export interface Counted {
  streams: number
  expected: number
  delivered: number
  missing: number
  orderErrors: number
  stray: number
}

export interface PhaseReport extends Counted {
  complete: boolean
  tFirst: number
  tLast: number
  loadgenCpuUs: number
  latency: { p50: number, p99: number, max: number, samples: number } | undefined
}

export class Phase {
  /** Connections that received all `count` events. */
  done = 0
  delivered = 0
  /** Events whose sequence number was not the one expected next on their stream. */
  orderErrors = 0
  /** Events outside this phase's range (left over, or data that is not ours). */
  stray = 0
  /** When the first and the last expected event arrived (ms, wall clock). */
  tFirst = 0
  tLast = 0
  readonly latencies: Float64Array | undefined
  latencyCount = 0
  readonly finished: Promise<void>
  /** The load generator's own CPU since the phase began: shows when it, not the server, is the limit. */
  readonly cpuStart = process.cpuUsage()
  #finish: () => void = () => {}

  constructor (readonly from: number, readonly count: number, readonly streams: number, stamped: boolean) {
    // One sample per delivered event: bounded by streams × count, allocated once.
    this.latencies = stamped ? new Float64Array(streams * count) : undefined
    this.finished = new Promise((resolve) => { this.#finish = resolve })
    if (streams === 0 || count === 0) this.#finish()
  }

  /** A stream got its last expected event. */
  streamDone (at: number): void {
    this.done++
    this.tLast = at
    if (this.done === this.streams) this.#finish()
  }

  latency (ms: number): void {
    if (this.latencies !== undefined && this.latencyCount < this.latencies.length) this.latencies[this.latencyCount++] = ms
  }

  /** Waits until every stream got its events or `timeoutMs` passed; what arrived by then. */
  async settle (timeoutMs: number): Promise<PhaseReport> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.finished, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
    const expected = this.streams * this.count
    return {
      complete: this.done === this.streams,
      streams: this.streams,
      expected,
      delivered: this.delivered,
      missing: expected - this.delivered,
      orderErrors: this.orderErrors,
      stray: this.stray,
      tFirst: this.tFirst,
      tLast: this.tLast,
      loadgenCpuUs: (({ user, system }) => user + system)(process.cpuUsage(this.cpuStart)),
      latency: this.percentiles()
    }
  }

  /** p50, p99 and max of the latencies, in ms. */
  percentiles (): { p50: number, p99: number, max: number, samples: number } | undefined {
    if (this.latencies === undefined || this.latencyCount === 0) return undefined
    const sorted = this.latencies.slice(0, this.latencyCount).sort()
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1], samples: sorted.length }
  }
}
