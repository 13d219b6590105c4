// Medians over rounds, from the runs whose scenario succeeded (a failed scenario is not a number),
// and the Redis/memory ratios, as the median of the per-round ratios.

import { median } from '../stats.js'
import type { SetupKind, SetupRun, SetupSummary } from './results.js'

export type Metric = 'eventsPerSec' | 'p50' | 'p99' | 'replayMs' | 'replayFirstMs'

function metricOf (run: SetupRun, metric: Metric): number | undefined {
  switch (metric) {
    case 'eventsPerSec': return run.fanout?.ok === true ? run.fanout.eventsPerSec : undefined
    case 'p50': return run.latency?.ok === true ? run.latency.p50 : undefined
    case 'p99': return run.latency?.ok === true ? run.latency.p99 : undefined
    case 'replayMs': return run.replay?.medianMs
    case 'replayFirstMs': return run.replay?.medianFirstMs
  }
}

const metrics: Metric[] = ['eventsPerSec', 'p50', 'p99', 'replayMs', 'replayFirstMs']

export function summarize (kind: SetupKind, label: string, runs: SetupRun[]): SetupSummary {
  const own = runs.filter((run) => run.kind === kind)
  const values = (metric: Metric): number | undefined =>
    median(own.map((run) => metricOf(run, metric)).filter((value): value is number => value !== undefined))
  return {
    kind,
    label,
    runs: own.length,
    failedRuns: own.filter((run) => !run.ok).length,
    eventsPerSec: values('eventsPerSec'),
    p50: values('p50'),
    p99: values('p99'),
    replayMs: values('replayMs'),
    replayFirstMs: values('replayFirstMs'),
    failures: own.flatMap((run) => run.failures.map((failure) => `round ${run.round}: ${failure}`))
  }
}

/** Redis divided by memory, per round, then the median. */
export function ratios (runs: SetupRun[]): Record<Metric, number | undefined> {
  const result = {} as Record<Metric, number | undefined>
  for (const metric of metrics) {
    const perRound: number[] = []
    for (const run of runs.filter((r) => r.kind === 'redis')) {
      const base = runs.find((r) => r.kind === 'memory' && r.round === run.round)
      const mine = metricOf(run, metric)
      const theirs = base === undefined ? undefined : metricOf(base, metric)
      if (mine !== undefined && theirs !== undefined && theirs > 0) perRound.push(mine / theirs)
    }
    result[metric] = median(perRound)
  }
  return result
}
