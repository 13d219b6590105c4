// The raw results of the cross-instance benchmark, as written to bench/results/redis-latest.json.
import type { Delivery, LatencyResult } from '../results.js'
import type { CpuUse } from './cpu.js'
import type { ReplayResult } from './replay-client.js'

export type SetupKind = 'redis' | 'memory'

/** One burst of `events` to every stream of every instance (publishes on instance A). */
export interface FanoutMeasure extends Delivery {
  /** CPU from just before the burst until every client process had reported. */
  cpu: CpuUse
}

interface LatencyPercentiles { p50: number, p99: number, max: number, samples: number }

/** Paced publishes on instance A, publish-to-receive on every stream. */
/** p50, p99 and max are the worst client process's (percentiles of different processes do not merge). */
export interface LatencyMeasure extends LatencyResult {
  /** Per client process, in instance order (for Redis, client process i reads instance i). */
  perClient: Array<LatencyPercentiles | undefined>
  /** Publishes that rejected (`late` counts those that left more than one interval late). */
  failedPublishes: number
  cpu: CpuUse
  /** Each instance's event-loop delay over the step (p99, max; ms): a blocked loop delays its streams. */
  loopDelay: Array<{ p99: number, max: number }>
}

export interface ReplayMeasure {
  events: number
  /** Where the cursor was read, where the events were published, where the client reconnected. */
  cursorOn: number
  publishOn: number
  reconnectOn: number
  /** Median of the rounds' `ms`, or undefined if any round failed. */
  medianMs: number | undefined
  /** Median of the rounds' `firstMs`: what the reconnect costs before the replay itself. */
  medianFirstMs: number | undefined
  warmup: ReplayResult
  rounds: ReplayResult[]
  ok: boolean
}

export interface SetupRun {
  kind: SetupKind
  round: number
  instances: number
  clients: number
  opened: number
  /** The burst of median throughput; failed if any burst failed. */
  fanout?: FanoutMeasure
  bursts?: FanoutMeasure[]
  latency?: LatencyMeasure
  replay?: ReplayMeasure
  /** The most CPU that was not ours (cores) over any measured step: above a few tenths, disturbed. */
  otherCores: number
  ok: boolean
  failures: string[]
}

export interface SetupSummary {
  kind: SetupKind
  label: string
  runs: number
  failedRuns: number
  /** Medians over the rounds whose scenario succeeded; undefined when none did. */
  eventsPerSec: number | undefined
  p50: number | undefined
  p99: number | undefined
  replayMs: number | undefined
  replayFirstMs: number | undefined
  failures: string[]
}
