// Cross-instance benchmark of the Redis broker, next to the memory broker in the same run:
//   1. fan-out: events published on instance A reach the streams of 3 instances (each its own
//      process) sharing one Redis; delivered events/s, and publish-to-receive p50/p99 at a paced
//      rate. The memory broker: one instance with as many streams in all.
//   2. replay: a client reconnects with a Last-Event-ID 1,000 events behind; time to get them all.
// Every event is counted and its order checked: a run that loses one is FAILED, not a number.
//
//   npx tsx bench/redis.ts [--quick] [--help]        (REDIS_URL, default redis://127.0.0.1:6379)

import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { now } from './clock.js'
import { machine, revision } from './machine.js'
import { startLoadgen } from './scenarios.js'
import { RedisCpu } from './redis/cpu.js'
import type { Loadgen } from './redis/fanout.js'
import { defaultOptions, parseRedisOptions, redisUsage, type RedisBenchOptions } from './redis/options.js'
import { failureList, resultTable } from './redis/report.js'
import { checkRedis, deletePrefix, runPrefix } from './redis/redis-keys.js'
import type { SetupKind, SetupRun, SetupSummary } from './redis/results.js'
import { runSetup } from './redis/run-setup.js'
import { ratios, summarize, type Metric } from './redis/summary.js'

export interface RedisBenchResult {
  options: Omit<RedisBenchOptions, 'log'>
  redisVersion: string
  summaries: SetupSummary[]
  ratios: Record<Metric, number | undefined>
  runs: SetupRun[]
  table: string
  ok: boolean
}

export async function runRedisBench (given: Partial<RedisBenchOptions> = {}): Promise<RedisBenchResult> {
  const options: RedisBenchOptions = { ...defaultOptions(given.quick ?? false), ...given }
  const started = now()
  const log = (line: string): void => options.log(`[${((now() - started) / 1000).toFixed(1)}s] ${line}`)
  // Other work on the machine skews every number here: the load averages go with the results.
  const loadBefore = loadavg()
  // The tree is shared and changes under us: the commit measured goes with the results too.
  const measured = revision()
  const redisVersion = await checkRedis(options.redisUrl)
  const prefix = runPrefix()
  const labels: Record<SetupKind, string> = {
    redis: `Redis ${redisVersion}, ${options.instances} instances`,
    memory: 'memory broker, 1 instance'
  }
  log(`${measured}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ${options.rounds} round(s); ${options.instances} client processes x ${options.clientsPerInstance} streams; bursts of ${options.events} events of ${options.size} bytes; ` +
    `latency ${options.latencyEvents} events at ${options.rate}/s; replay ${options.replayEvents} events x ${options.replayRounds}; key prefix ${prefix}`)

  // One load generator per instance, the same ones for both setups, so the client side is alike.
  const loadgens: Loadgen[] = Array.from({ length: options.instances }, () => startLoadgen())
  const redisCpu = new RedisCpu(options.redisUrl)
  const runs: SetupRun[] = []
  // Interrupted, the run still deletes its keys; the children see the IPC channel close and exit.
  const interrupted = (): void => {
    log('interrupted: deleting the run\'s keys')
    setTimeout(() => process.exit(130), 5_000).unref()
    deletePrefix(options.redisUrl, prefix).finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    await Promise.all(loadgens.map((loadgen) => loadgen.ready()))
    for (let round = 1; round <= options.rounds; round++) {
      // Alternated each round, so neither setup always runs on a machine warmed by the other.
      const order: SetupKind[] = round % 2 === 1 ? ['memory', 'redis'] : ['redis', 'memory']
      for (const kind of order) {
        const run = await runSetup(kind, round, { options, loadgens, redisCpu, prefix })
        runs.push(run)
        const f = run.fanout
        const l = run.latency
        log(`round ${round} ${kind}: ${f?.ok === true ? `${(f.eventsPerSec / 1e3).toFixed(0)}k events/s (first ${f.firstMs.toFixed(1)}, last ${f.ms.toFixed(0)} ms, ${f.cpu.cores.toFixed(2)} cores busy)` : 'fan-out FAILED'}, ` +
          `p50/p99 ${l?.ok === true ? `${l.p50.toFixed(1)}/${l.p99.toFixed(1)} ms` : 'FAILED'}, ` +
          `replay ${run.replay?.medianMs === undefined ? 'FAILED' : `${run.replay.medianMs.toFixed(1)} ms`}; other load up to ${run.otherCores.toFixed(2)} cores${run.ok ? '' : ` FAILED: ${run.failures.join('; ')}`}`)
      }
    }
  } finally {
    process.off('SIGINT', interrupted)
    process.off('SIGTERM', interrupted)
    await Promise.all(loadgens.map((loadgen) => loadgen.stop()))
    redisCpu.close()
    const deleted = await deletePrefix(options.redisUrl, prefix).catch((error: unknown) => {
      log(`could not delete keys ${prefix}*: ${(error as Error).message}`)
      return 0
    })
    log(`deleted ${deleted} Redis keys under ${prefix}`)
  }

  const summaries = (['redis', 'memory'] as const).map((kind) => summarize(kind, labels[kind], runs))
  const ratioOf = ratios(runs)
  const table = resultTable(summaries, ratioOf, { clients: options.instances * options.clientsPerInstance, rate: options.rate, replay: options.replayEvents })
  const failures = failureList(summaries)
  log(`Medians over ${options.rounds} round(s); ratios are medians of the per-round ratios.\n\n${table}${failures === '' ? '' : `\n\n${failures}`}\n`)

  const { log: _log, ...recorded } = options
  const result: RedisBenchResult = { options: recorded, redisVersion, summaries, ratios: ratioOf, runs, table, ok: runs.every((run) => run.ok) }
  mkdirSync(dirname(options.out), { recursive: true })
  const load = { before: loadBefore, after: loadavg() }
  writeFileSync(options.out, JSON.stringify({ date: new Date().toISOString(), revision: measured, machine: machine(), load, ...result }, null, 2) + '\n')
  log(`raw results: ${options.out}`)
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  if (args.includes('--help')) {
    console.log(redisUsage)
    process.exit(0)
  }
  try {
    const result = await runRedisBench(parseRedisOptions(args))
    process.exitCode = result.ok ? 0 : 1
  } catch (error) {
    // A setup problem (no Redis, a bad option): one line, not a stack.
    console.error((error as Error).message)
    process.exitCode = 2
  }
}
