// Fan-out and latency across instances: events published on instance A, counted by the load
// generators (bench/loadgen.ts, one process per instance), each reading its own set of streams.

import type { Child } from '../ipc.js'
import type { LoadgenApi } from '../loadgen.js'
import type { Cluster } from './cluster.js'
import { cpuSnapshot, cpuUse, type RedisCpu } from './cpu.js'
import type { RedisBenchOptions } from './options.js'
import type { FanoutMeasure, LatencyMeasure } from './results.js'

export type Loadgen = Child<LoadgenApi>

/** What every scenario step of one setup works with. */
export interface Bench {
  cluster: Cluster
  loadgens: Loadgen[]
  redisCpu: RedisCpu
  options: RedisBenchOptions
}
type WaitResult = Awaited<ReturnType<LoadgenApi['wait']>>

async function expectAll (loadgens: Loadgen[], from: number, count: number, stamped: boolean): Promise<void> {
  await Promise.all(loadgens.map((loadgen) => loadgen.call('expect', { from, count, stamped })))
}

function waitAll (loadgens: Loadgen[], timeoutMs: number): Promise<WaitResult[]> {
  return Promise.all(loadgens.map((loadgen) => loadgen.call('wait', { timeoutMs }, timeoutMs + 5_000)))
}

const loadgenCpu = (results: WaitResult[]): number => results.reduce((total, result) => total + result.loadgenCpuUs, 0)

const sum = (results: WaitResult[], key: 'streams' | 'expected' | 'delivered' | 'missing' | 'orderErrors' | 'stray'): number =>
  results.reduce((total, result) => total + result[key], 0)

/** Every stream got every event, in order, and nothing else. */
const complete = (results: WaitResult[]): boolean =>
  results.every((result) => result.complete && result.missing === 0 && result.orderErrors === 0 && result.stray === 0)

/** Opens `perLoadgen` streams from each load generator to its port (cluster.ports[i], or the only one). */
export async function openStreams (cluster: Cluster, loadgens: Loadgen[], perLoadgen: number, timeoutMs: number): Promise<{ opened: number, failures: string[] }> {
  const results = await Promise.all(loadgens.map((loadgen, i) => loadgen.call('open', {
    port: cluster.ports[i % cluster.ports.length], n: perLoadgen, batch: 100, timeoutMs
  }, timeoutMs + 5_000)))
  const failures = results.flatMap((result, i) => result.failed > 0 ? [`open: ${result.failed} of ${perLoadgen} streams failed on client process ${i} (${result.firstFailure})`] : [])
  return { opened: results.reduce((total, result) => total + result.opened, 0), failures }
}

/** One burst of `count` events published on instance A: delivered events/s over every stream. */
export async function fanout ({ cluster, loadgens, redisCpu, options }: Bench, from: number, count: number): Promise<FanoutMeasure> {
  await expectAll(loadgens, from, count, false)
  const before = await cpuSnapshot(cluster, redisCpu)
  const burst = await cluster.instances[0].call('burst', { topic: 't', from, count, size: options.size }, options.timeoutMs)
  const got = await waitAll(loadgens, options.timeoutMs)
  const cpu = cpuUse(before, await cpuSnapshot(cluster, redisCpu), loadgenCpu(got))
  const delivered = sum(got, 'delivered')
  const ms = Math.max(...got.map((result) => result.tLast)) - burst.t0
  const firsts = got.map((result) => result.tFirst).filter((t) => t > 0)
  return {
    streams: sum(got, 'streams'),
    expected: sum(got, 'expected'),
    delivered,
    missing: sum(got, 'missing'),
    orderErrors: sum(got, 'orderErrors'),
    stray: sum(got, 'stray'),
    ms,
    eventsPerSec: delivered / (ms / 1000),
    firstMs: firsts.length === 0 ? NaN : Math.min(...firsts) - burst.t0,
    publishMs: burst.publishMs,
    cpu,
    ok: complete(got)
  }
}

/** `latencyEvents` published on A at `rate` per second, each stamped: publish-to-receive on every stream. */
export async function latency ({ cluster, loadgens, redisCpu, options }: Bench, from: number): Promise<LatencyMeasure> {
  const { rate, latencyEvents: events, timeoutMs } = options
  await expectAll(loadgens, from, events, true)
  await Promise.all(cluster.instances.map((instance) => instance.call('loopDelayReset', undefined)))
  const before = await cpuSnapshot(cluster, redisCpu)
  const paced = await cluster.instances[0].call('paced', { from, count: events, size: options.size, rate }, timeoutMs + events * 1000 / rate)
  const got = await waitAll(loadgens, timeoutMs)
  const cpu = cpuUse(before, await cpuSnapshot(cluster, redisCpu), loadgenCpu(got))
  const loopDelay = await Promise.all(cluster.instances.map((instance) => instance.call('loopDelay', undefined)))
  const perClient = got.map((result) => result.latency)
  const worst = (key: 'p50' | 'p99' | 'max'): number => Math.max(...perClient.map((l) => l?.[key] ?? NaN))
  return {
    rate,
    events,
    p50: worst('p50'),
    p99: worst('p99'),
    max: worst('max'),
    samples: perClient.reduce((total, l) => total + (l?.samples ?? 0), 0),
    perClient,
    missing: sum(got, 'missing'),
    orderErrors: sum(got, 'orderErrors'),
    late: paced.late,
    failedPublishes: paced.failed,
    cpu,
    loopDelay,
    ok: complete(got) && paced.failed === 0
  }
}
