// `npm run bench`: every server in its own process against one load-generator process, interleaved
// over rounds; prints medians, ratios and the budget verdicts, and writes the raw results as JSON.

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { checkBudget } from './budget.js'
import { now } from './clock.js'
import { load, machine, revision } from './machine.js'
import { parseOptions, usage } from './options.js'
import { bigTable, budgetTable, failureList, serverTable } from './report.js'
import type { BigRun, ServerRun } from './results.js'
import { resultsDir, runBig, runServer, startLoadgen, warmLoadgen } from './scenarios.js'
import { summarize, summarizeBig } from './summary.js'

const args = process.argv.slice(2)
if (args.includes('--help')) {
  console.log(usage)
  process.exit(0)
}
const options = parseOptions(args)
mkdirSync(resultsDir, { recursive: true })

const started = now()
const log = (line: string): void => { console.log(`[${((now() - started) / 1000).toFixed(1)}s] ${line}`) }
const measured = revision()
const loadBefore = load()
log(`${measured}, load ${loadBefore}; ${options.rounds} round(s), ${options.servers.length} servers, ${options.clients} streams, ${options.events} events of ${options.size} bytes; ${options.bigStreams} streams for ${options.bigServers.join(', ') || 'none'}`)

const loadgen = startLoadgen()
await loadgen.ready()
const runs: ServerRun[] = []
const bigRuns: BigRun[] = []
try {
  await warmLoadgen(options, loadgen)
  log('load generator warmed up (one unrecorded run against node-direct)')
  for (let round = 1; round <= options.rounds; round++) {
    // Rotated each round, so no server always runs first or right after the same one.
    const shift = (round - 1) % options.servers.length
    const order = [...options.servers.slice(shift), ...options.servers.slice(0, shift)]
    for (const server of order) {
      const run = await runServer(server, round, options, loadgen)
      runs.push(run)
      const f = run.fanout
      log(`round ${round} ${server}: ${f?.ok === true ? `${(f.eventsPerSec / 1e3).toFixed(0)}k events/s, ${f.cpuPerEventUs.toFixed(2)} us/event (publish ${f.publishMs.toFixed(0)}, flushed ${f.flushMs.toFixed(0)}, first ${f.firstMs.toFixed(0)}, last ${f.ms.toFixed(0)} ms; loadgen ${(f.loadgenBusy * 100).toFixed(0)}% busy)` : 'fan-out failed'}, ` +
        `${((run.memory?.perStreamBytes ?? NaN) / 1024).toFixed(2)} KiB/stream, ${run.connect?.rate.toFixed(0) ?? '-'} streams/s (${run.connect?.cpuPerStreamUs.toFixed(0) ?? '-'} us each), ` +
        `p99 ${run.latency?.p99.toFixed(1) ?? '-'} ms${run.ok ? '' : ` FAILED: ${run.failures.join('; ')}`}`)
    }
    if (options.bigStreams > 0) {
      for (const server of options.bigServers) {
        const run = await runBig(server, round, options, loadgen)
        bigRuns.push(run)
        log(`round ${round} ${server} x${options.bigStreams}: ${run.fanout?.ok === true ? `${(run.fanout.eventsPerSec / 1e3).toFixed(0)}k events/s` : 'fan-out failed'}, close ${run.closeMs?.toFixed(0) ?? '-'} ms (loadgen had ${run.loadgenFds ?? '-'} fds before)${run.ok ? '' : ` FAILED: ${run.failures.join('; ')}`}`)
      }
    }
  }
} finally {
  await loadgen.stop()
}

const summaries = summarize(options.servers, runs)
const big = summarizeBig(options.bigStreams > 0 ? options.bigServers : [], bigRuns)
const verdicts = checkBudget(summaries, big, options)
const report = [
  `${measured}; medians over ${options.rounds} round(s); in parentheses the median of the per-round ratios to the reference server.`,
  serverTable(summaries),
  bigTable(big, options.bigStreams),
  budgetTable(verdicts),
  failureList(summaries, big)
].filter((part) => part !== '').join('\n\n')
console.log(`\n${report}\n`)

mkdirSync(dirname(options.out), { recursive: true })
writeFileSync(options.out, JSON.stringify({ date: new Date().toISOString(), revision: measured, machine: machine(), load: { before: loadBefore, after: load() }, options, summaries, big, verdicts, runs, bigRuns }, null, 2) + '\n')
log(`raw results: ${options.out}`)
