// One broker setup in one round: its instances started fresh, the streams opened, the fan-out
// bursts, the paced latency, then the replay; everything stopped afterwards, whatever failed.

import { startCluster } from './cluster.js'
import type { RedisCpu } from './cpu.js'
import { type Bench, fanout, latency, type Loadgen, openStreams } from './fanout.js'
import type { RedisBenchOptions } from './options.js'
import { replayScenario } from './replay.js'
import type { FanoutMeasure, SetupKind, SetupRun } from './results.js'

const WARMUP_EVENTS = 50

/** What every setup of the run shares: the client processes, the Redis CPU meter, the key prefix. */
export interface Shared {
  options: RedisBenchOptions
  loadgens: Loadgen[]
  redisCpu: RedisCpu
  prefix: string
}

function describe (what: string, result: { missing: number, orderErrors: number, stray?: number }): string {
  return `${what}: ${result.missing} events missing, ${result.orderErrors} out of order${result.stray ? `, ${result.stray} stray` : ''}`
}

/** The burst of median throughput, failed if any burst failed: a lost event is never averaged away. */
function medianBurst (bursts: FanoutMeasure[]): FanoutMeasure {
  const sorted = [...bursts].sort((a, b) => a.eventsPerSec - b.eventsPerSec)
  return { ...sorted[(sorted.length - 1) >> 1], ok: bursts.every((burst) => burst.ok) }
}

async function measure (bench: Bench, run: SetupRun): Promise<void> {
  const { cluster, loadgens, options } = bench
  const open = await openStreams(cluster, loadgens, options.clientsPerInstance, options.timeoutMs)
  run.opened = open.opened
  run.failures.push(...open.failures)

  const warm = await fanout(bench, 1, WARMUP_EVENTS)
  if (!warm.ok) run.failures.push(describe('warm-up', warm))
  let next = 1 + WARMUP_EVENTS
  const bursts: FanoutMeasure[] = []
  for (let i = 0; i < options.bursts; i++, next += options.events) bursts.push(await fanout(bench, next, options.events))
  run.bursts = bursts
  run.fanout = medianBurst(bursts)
  for (const burst of bursts) if (!burst.ok) run.failures.push(describe('fan-out', burst))

  run.latency = await latency(bench, next)
  if (!run.latency.ok) run.failures.push(describe('latency', run.latency) + (run.latency.failedPublishes > 0 ? `, ${run.latency.failedPublishes} publishes rejected` : ''))
  // The replay runs with no other stream open.
  await Promise.all(loadgens.map((loadgen) => loadgen.call('close', undefined)))

  run.replay = await replayScenario(cluster, options)
  const failed = [run.replay.warmup, ...run.replay.rounds].filter((result) => !result.ok)
  if (failed.length > 0) run.failures.push(`replay: ${failed.length} round(s) failed, first: ${failed[0].failure}`)
}

export async function runSetup (kind: SetupKind, round: number, shared: Shared): Promise<SetupRun> {
  const { options, loadgens, redisCpu, prefix } = shared
  const instances = kind === 'memory' ? 1 : options.instances
  const run: SetupRun = { kind, round, instances, clients: loadgens.length * options.clientsPerInstance, opened: 0, otherCores: NaN, ok: false, failures: [] }
  let cluster
  try {
    cluster = await startCluster(kind, instances, { url: options.redisUrl, prefix })
    await measure({ cluster, loadgens, redisCpu, options }, run)
  } catch (error) {
    run.failures.push((error as Error).message)
  } finally {
    await Promise.all(loadgens.map((loadgen) => loadgen.call('close', undefined).catch(() => {})))
    await cluster?.stop()
  }
  const steps = [...(run.bursts ?? []), ...(run.latency === undefined ? [] : [run.latency])]
  run.otherCores = Math.max(0, ...steps.map(({ cpu }) => cpu.othersMs / cpu.windowMs))
  run.ok = run.failures.length === 0
  return run
}
