// The raw results of one run of the benchmark, as written to bench/results/latest.json.
import type { Counted } from './loadgen/phase.js'
import type { ServerName } from './servers/index.js'

/** What the clients counted of one burst: every event of every stream, in order, or a failed run. */
export interface Delivery extends Counted {
  /** First publish to last event received, ms. */
  ms: number
  eventsPerSec: number
  /** First publish to first event received, ms. */
  firstMs: number
  /** How long the publishing calls themselves took, ms. */
  publishMs: number
  ok: boolean
}

export interface FanoutResult extends Delivery {
  /** Server CPU (user + system) from the first publish until every event was received. */
  cpuUs: number
  cpuPerEventUs: number
  /** The load generator's CPU over the same time, as a share of one core: near 1, it was the limit. */
  loadgenBusy: number
  /** Until the server's event loop came round after the burst: its writes handed to the kernel, ms. */
  flushMs: number
}

export interface MemoryResult {
  streams: number
  before: number
  after: number
  /** heap used + external, after GC, per open idle stream. */
  perStreamBytes: number
}

export interface LatencyResult {
  rate: number
  events: number
  p50: number
  p99: number
  max: number
  samples: number
  missing: number
  orderErrors: number
  /** Publishes that left more than one interval late (a busy server). */
  late: number
  ok: boolean
}

export interface ConnectResult {
  opened: number
  failed: number
  ms: number
  rate: number
  /** Server CPU per stream opened (connect until the head is sent, and what opening scheduled). */
  cpuPerStreamUs: number
  ok: boolean
}

export interface ServerRun {
  round: number
  server: ServerName
  ok: boolean
  failures: string[]
  memory?: MemoryResult
  /** The median of `bursts` (CPU per event: the median of theirs). */
  fanout?: FanoutResult
  bursts?: FanoutResult[]
  latency?: LatencyResult
  connect?: ConnectResult
}

export interface BigRun {
  round: number
  server: ServerName
  streams: number
  opened: number
  openMs: number
  fanout?: FanoutResult
  /** How long `fastify.close()` took with every stream open. */
  closeMs?: number
  shutdownTimeoutMs: number
  /** Streams whose response ended after the close. */
  ended?: number
  /** File descriptors the load generator held before opening (a leak would show here). */
  loadgenFds?: number
  ok: boolean
  failures: string[]
}
