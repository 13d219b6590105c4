// Medians over rounds, and ratios against the reference servers, from successful runs only.

import type { BigRun, ServerRun } from './results.js'
import type { ServerName } from './servers/index.js'
import { median } from './stats.js'

export type Metric = 'eventsPerSec' | 'cpuPerEventUs' | 'memoryPerStream' | 'connectRate' | 'connectCpuUs' | 'latencyP50' | 'latencyP99'

/** Each ratio's reference server, as in the budget. */
export const references: Record<Metric, ServerName | undefined> = {
  eventsPerSec: 'node-direct',
  cpuPerEventUs: 'node-direct',
  memoryPerStream: 'node-write',
  connectRate: 'fastify-hijack',
  connectCpuUs: 'fastify-hijack',
  latencyP50: undefined,
  latencyP99: undefined
}

/** A metric of one run, or undefined when its scenario failed there (a failed run is not a number). */
export function metricOf (run: ServerRun, metric: Metric): number | undefined {
  switch (metric) {
    case 'eventsPerSec': return run.fanout?.ok === true ? run.fanout.eventsPerSec : undefined
    case 'cpuPerEventUs': return run.fanout?.ok === true ? run.fanout.cpuPerEventUs : undefined
    case 'memoryPerStream': return run.memory !== undefined && run.memory.streams > 0 && run.fanout?.ok === true ? run.memory.perStreamBytes : undefined
    case 'connectRate': return run.connect?.ok === true ? run.connect.rate : undefined
    case 'connectCpuUs': return run.connect?.ok === true ? run.connect.cpuPerStreamUs : undefined
    case 'latencyP50': return run.latency?.ok === true ? run.latency.p50 : undefined
    case 'latencyP99': return run.latency?.ok === true ? run.latency.p99 : undefined
  }
}

export interface MetricSummary {
  median: number | undefined
  /** Median over rounds of this server's value divided by the reference's in the same round. */
  ratio: number | undefined
  runs: number
}

export interface ServerSummary {
  server: ServerName
  runs: number
  failedRuns: number
  failures: string[]
  metrics: Record<Metric, MetricSummary>
}

const metrics = Object.keys(references) as Metric[]

export function summarize (servers: ServerName[], runs: ServerRun[]): ServerSummary[] {
  return servers.map((server) => {
    const own = runs.filter((run) => run.server === server)
    const summary = {} as Record<Metric, MetricSummary>
    for (const metric of metrics) {
      const values = own.map((run) => metricOf(run, metric)).filter((value): value is number => value !== undefined)
      const reference = references[metric]
      const ratios: number[] = []
      if (reference !== undefined) {
        for (const run of own) {
          const mine = metricOf(run, metric)
          const theirs = runs.find((other) => other.server === reference && other.round === run.round)
          const base = theirs === undefined ? undefined : metricOf(theirs, metric)
          if (mine !== undefined && base !== undefined && base > 0) ratios.push(mine / base)
        }
      }
      summary[metric] = { median: median(values), ratio: median(ratios), runs: values.length }
    }
    return {
      server,
      runs: own.length,
      failedRuns: own.filter((run) => !run.ok).length,
      failures: own.flatMap((run) => run.failures.map((failure) => `round ${run.round}: ${failure}`)),
      metrics: summary
    }
  })
}

export interface BigSummary {
  server: ServerName
  runs: number
  ok: number
  closeMsMedian: number | undefined
  closeMsMax: number | undefined
  eventsPerSec: number | undefined
  failures: string[]
}

export function summarizeBig (servers: ServerName[], runs: BigRun[]): BigSummary[] {
  return servers.map((server) => {
    const own = runs.filter((run) => run.server === server)
    const closes = own.map((run) => run.closeMs).filter((ms): ms is number => ms !== undefined)
    return {
      server,
      runs: own.length,
      ok: own.filter((run) => run.ok).length,
      closeMsMedian: median(closes),
      closeMsMax: closes.length === 0 ? undefined : Math.max(...closes),
      eventsPerSec: median(own.flatMap((run) => run.fanout?.ok === true ? [run.fanout.eventsPerSec] : [])),
      failures: own.flatMap((run) => run.failures.map((failure) => `round ${run.round}: ${failure}`))
    }
  })
}
