// The printed report: a table of medians with their ratios, the many-streams runs, the budget.

import type { Verdict } from './budget.js'
import { serverLabels } from './servers/index.js'
import type { BigSummary, MetricSummary, ServerSummary } from './summary.js'

function fixed (value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits)
}

function withRatio (m: MetricSummary, format: (value: number) => string): string {
  if (m.median === undefined) return 'failed'
  return `${format(m.median)} (${fixed(m.ratio, 2)})`
}

function rate (value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0)
}

/** A Markdown table, so the same text goes to the terminal and to docs/BENCHMARKS.md. */
function table (header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

export function serverTable (summaries: ServerSummary[]): string {
  const header = ['server', 'events/s (x direct)', 'CPU us/event (x direct)', 'KiB/idle stream (x node:http)', 'new streams/s (x hijacked)', 'CPU us/new stream (x hijacked)', 'latency p50 / p99 ms', 'failed runs']
  const rows = summaries.map((s) => [
    serverLabels[s.server],
    withRatio(s.metrics.eventsPerSec, rate),
    withRatio(s.metrics.cpuPerEventUs, (v) => v.toFixed(2)),
    withRatio(s.metrics.memoryPerStream, (v) => (v / 1024).toFixed(2)),
    withRatio(s.metrics.connectRate, rate),
    withRatio(s.metrics.connectCpuUs, (v) => v.toFixed(0)),
    `${fixed(s.metrics.latencyP50.median, 1)} / ${fixed(s.metrics.latencyP99.median, 1)}`,
    `${s.failedRuns}/${s.runs}`
  ])
  return table(header, rows)
}

export function bigTable (big: BigSummary[], streams: number): string {
  if (big.length === 0) return ''
  const rows = big.map((b) => [serverLabels[b.server], `${b.ok}/${b.runs}`, b.eventsPerSec === undefined ? '-' : rate(b.eventsPerSec), fixed(b.closeMsMedian, 0), fixed(b.closeMsMax, 0)])
  return table([`${streams} streams`, 'runs ok', 'events/s', 'close ms (median)', 'close ms (max)'], rows)
}

export function budgetTable (verdicts: Verdict[]): string {
  return table(['budget', 'measured', 'verdict'], verdicts.map((v) => [v.text, v.measured, v.pass === undefined ? 'not run' : v.pass ? 'PASS' : 'FAIL']))
}

export function failureList (summaries: ServerSummary[], big: BigSummary[]): string {
  const lines = [...summaries, ...big].flatMap((s) => s.failures.map((failure) => `- ${s.server}, ${failure}`))
  return lines.length === 0 ? '' : `Failed runs (not counted in the medians):\n${lines.join('\n')}`
}
