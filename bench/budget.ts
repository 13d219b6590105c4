// The performance budget of issue 6, checked against the summary of one run.

import type { BenchOptions } from './options.js'
import type { BigSummary, Metric, ServerSummary } from './summary.js'
import type { ServerName } from './servers/index.js'

interface RatioLine {
  text: string
  server: ServerName
  metric: Metric
  /** The ratio must be at least (`min`) or at most (`max`) this. */
  bound: { min: number } | { max: number }
}

const ratioLines: RatioLine[] = [
  { text: 'fan-out via app.sse.publish (relay): events/s >= 0.7 x direct-write', server: 'plugin-relay', metric: 'eventsPerSec', bound: { min: 0.7 } },
  { text: 'fan-out via app.sse.publish (relay): CPU/event <= 1.5 x direct-write', server: 'plugin-relay', metric: 'cpuPerEventUs', bound: { max: 1.5 } },
  { text: 'fan-out through handle (per actor): events/s >= 0.5 x direct-write', server: 'plugin-handle', metric: 'eventsPerSec', bound: { min: 0.5 } },
  { text: 'memory per idle stream <= 1.3 x node:http', server: 'plugin-relay', metric: 'memoryPerStream', bound: { max: 1.3 } },
  { text: 'new streams/s >= 0.8 x Fastify hijacked', server: 'plugin-relay', metric: 'connectRate', bound: { min: 0.8 } }
]

export interface Verdict {
  text: string
  measured: string
  pass: boolean | undefined
}

export function checkBudget (summaries: ServerSummary[], big: BigSummary[], options: BenchOptions): Verdict[] {
  const verdicts: Verdict[] = ratioLines.map((line) => {
    const summary = summaries.find((s) => s.server === line.server)
    const ratio = summary?.metrics[line.metric].ratio
    if (summary === undefined) return { text: line.text, measured: 'not run', pass: undefined }
    if (ratio === undefined) return { text: line.text, measured: 'no valid run', pass: false }
    const pass = 'min' in line.bound ? ratio >= line.bound.min : ratio <= line.bound.max
    return { text: line.text, measured: ratio.toFixed(2), pass }
  })
  for (const summary of big) {
    const text = `${options.bigStreams} open streams (${summary.server}): all delivered, fastify.close() within shutdownTimeout`
    const measured = summary.runs === 0
      ? 'not run'
      : `${summary.ok}/${summary.runs} runs ok, close max ${summary.closeMsMax?.toFixed(0) ?? '-'} ms`
    verdicts.push({ text, measured, pass: summary.runs === 0 ? undefined : summary.ok === summary.runs })
  }
  return verdicts
}
