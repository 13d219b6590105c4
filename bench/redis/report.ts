// The printed report: one row per broker setup and one of Redis/memory ratios, as a Markdown table
// (the same text goes to the terminal and to docs/notes/redis-bench.md).

import type { SetupSummary } from './results.js'
import type { Metric } from './summary.js'

function table (header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

const FAILED = 'FAILED'

function rate (value: number | undefined): string {
  if (value === undefined) return FAILED
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0)
}

function ms (value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? FAILED : value.toFixed(digits)
}

function ratio (value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(2)}x`
}

export function resultTable (summaries: SetupSummary[], ratios: Record<Metric, number | undefined>, header: { clients: number, rate: number, replay: number }): string {
  const rows = summaries.map((s) => [
    s.label,
    rate(s.eventsPerSec),
    `${ms(s.p50)} / ${ms(s.p99)}`,
    `${ms(s.replayMs)} (${ms(s.replayFirstMs)})`,
    `${s.failedRuns}/${s.runs}`
  ])
  rows.push(['Redis / memory', ratio(ratios.eventsPerSec), `${ratio(ratios.p50)} / ${ratio(ratios.p99)}`, `${ratio(ratios.replayMs)} (${ratio(ratios.replayFirstMs)})`, ''])
  return table([
    `setup (${header.clients} streams in all)`,
    'events/s delivered',
    `latency p50 / p99 ms at ${header.rate}/s`,
    `replay of ${header.replay.toLocaleString('en-US')} ms (first event)`,
    'failed runs'
  ], rows)
}

export function failureList (summaries: SetupSummary[]): string {
  const lines = summaries.flatMap((s) => s.failures.map((failure) => `- ${s.kind}, ${failure}`))
  return lines.length === 0 ? '' : `FAILED (not counted in the medians):\n${lines.join('\n')}`
}
