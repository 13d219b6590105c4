// `npm run bench:http2`: this plugin on HTTP/2 next to raw node:http2 writing pre-framed event bytes
// (the limit), every server in a fresh process against one load-generator process, interleaved over
// rounds. Prints medians and the ratio to the limit (goal: the relay at 0.7 or more), writes JSON.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { now } from './clock.js'
import { Child } from './ipc.js'
import { load, machine, revision } from './machine.js'
import { median } from './stats.js'
import type { H2LoadgenApi } from './http2/loadgen.js'
import type { H2ServerApi } from './http2/server-host.js'
import { h2ServerLabels, h2ServerNames, isH2ServerName, type H2ServerName } from './http2/servers.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const value = (name: string): string | undefined => { const at = args.indexOf(name); return at === -1 ? undefined : args[at + 1] }
const integer = (name: string, fallback: number): number => {
  const parsed = Number(value(name) ?? fallback)
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${name} takes a positive integer`)
  return parsed
}
if (args.includes('--help')) {
  console.log(`npm run bench:http2 -- [--quick] [--rounds N] [--streams N] [--per-session N] [--events N] [--size BYTES] [--bursts N] [--servers ${h2ServerNames.join(',')}] [--out FILE]`)
  process.exit(0)
}
const quick = args.includes('--quick')
const options = {
  rounds: integer('--rounds', quick ? 1 : 5),
  streams: integer('--streams', quick ? 500 : 2000),
  /** Streams per session: 100 is what servers commonly allow (SETTINGS_MAX_CONCURRENT_STREAMS). */
  perSession: integer('--per-session', 100),
  events: integer('--events', 200),
  size: integer('--size', 100),
  bursts: integer('--bursts', 3),
  warmup: 50,
  timeoutMs: 60_000,
  servers: (value('--servers')?.split(',') ?? [...h2ServerNames]).map((name) => {
    if (!isH2ServerName(name)) throw new Error(`unknown server ${name}; known: ${h2ServerNames.join(', ')}`)
    return name
  }),
  out: value('--out') ?? join(here, 'results', 'http2-latest.json')
}
const REFERENCE: H2ServerName = 'h2-direct'
const GOAL = { server: 'plugin-h2-relay' as H2ServerName, ratio: 0.7 }

interface Burst { ok: boolean, eventsPerSec: number, cpuPerEventUs: number, loadgenBusy: number, missing: number, orderErrors: number, stray: number }
interface Run { round: number, server: H2ServerName, bursts: Burst[], eventsPerSec?: number, cpuPerEventUs?: number, loadgenBusy?: number, failures: string[] }

const started = now()
const log = (line: string): void => { console.log(`[${((now() - started) / 1000).toFixed(1)}s] ${line}`) }
const loadBefore = load()
log(`${revision()}, load ${loadBefore}; ${options.rounds} round(s), ${options.streams} streams on ${Math.ceil(options.streams / options.perSession)} sessions, bursts of ${options.events} events of ${options.size} bytes`)

async function fanout (server: Child<H2ServerApi>, loadgen: Child<H2LoadgenApi>, from: number, count: number): Promise<Burst> {
  await loadgen.call('expect', { from, count })
  const burst = await server.call('burst', { from, count, size: options.size }, options.timeoutMs)
  const got = await loadgen.call('wait', { timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
  const cpuUs = await server.call('cpu', undefined)
  const ms = got.tLast - burst.t0
  return {
    ok: got.complete && got.missing === 0 && got.orderErrors === 0 && got.stray === 0,
    eventsPerSec: got.delivered / (ms / 1000),
    cpuPerEventUs: cpuUs / Math.max(1, got.delivered),
    loadgenBusy: got.loadgenCpuUs / 1000 / ms,
    missing: got.missing,
    orderErrors: got.orderErrors,
    stray: got.stray
  }
}

/** One fresh server process: open the streams, a warm-up burst, then the measured bursts. */
async function runServer (name: H2ServerName, round: number, loadgen: Child<H2LoadgenApi>): Promise<Run> {
  const run: Run = { round, server: name, bursts: [], failures: [] }
  const server = new Child<H2ServerApi>(name, join(here, 'http2', 'server-host.ts'), [name], [])
  try {
    await server.ready()
    const { port } = await server.call('info', undefined)
    const open = await loadgen.call('open', { port, n: options.streams, perSession: options.perSession, timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
    if (open.failed > 0) run.failures.push(`open: ${open.failed} of ${options.streams} failed (${open.firstFailure})`)
    const warm = await fanout(server, loadgen, 1, options.warmup)
    if (!warm.ok) run.failures.push(`warm-up: ${warm.missing} missing, ${warm.orderErrors} out of order`)
    for (let i = 0, next = 1 + options.warmup; i < options.bursts; i++, next += options.events) {
      const burst = await fanout(server, loadgen, next, options.events)
      run.bursts.push(burst)
      if (!burst.ok) run.failures.push(`burst ${i + 1}: ${burst.missing} missing, ${burst.orderErrors} out of order, ${burst.stray} stray`)
    }
  } catch (error) {
    run.failures.push((error as Error).message)
  } finally {
    await loadgen.call('close', undefined).catch(() => {})
    await server.stop()
  }
  if (run.failures.length === 0) {
    run.eventsPerSec = median(run.bursts.map((b) => b.eventsPerSec))
    run.cpuPerEventUs = median(run.bursts.map((b) => b.cpuPerEventUs))
    run.loadgenBusy = median(run.bursts.map((b) => b.loadgenBusy))
  }
  return run
}

const loadgen = new Child<H2LoadgenApi>('h2-loadgen', join(here, 'http2', 'loadgen.ts'), [], [])
await loadgen.ready()
const runs: Run[] = []
try {
  await runServer(REFERENCE, 0, loadgen) // unrecorded: the load generator is compiled and warm first
  for (let round = 1; round <= options.rounds; round++) {
    const shift = (round - 1) % options.servers.length
    for (const name of [...options.servers.slice(shift), ...options.servers.slice(0, shift)]) {
      const run = await runServer(name, round, loadgen)
      runs.push(run)
      log(`round ${round} ${name}: ${run.failures.length === 0 ? `${((run.eventsPerSec ?? 0) / 1e3).toFixed(0)}k events/s, ${run.cpuPerEventUs?.toFixed(2)} us/event, loadgen ${((run.loadgenBusy ?? 0) * 100).toFixed(0)}% busy` : `FAILED: ${run.failures.join('; ')}`}`)
    }
  }
} finally {
  await loadgen.stop()
}

/** Median over rounds, and the median of the per-round ratios to the reference. */
function summary (name: H2ServerName, metric: 'eventsPerSec' | 'cpuPerEventUs'): { median?: number, ratio?: number, spread?: [number, number] } {
  const own = runs.filter((run) => run.server === name && run[metric] !== undefined)
  const ratios = own.flatMap((run) => {
    const base = runs.find((other) => other.server === REFERENCE && other.round === run.round)?.[metric]
    return base === undefined ? [] : [run[metric]! / base]
  })
  return { median: median(own.map((run) => run[metric]!)), ratio: median(ratios), spread: ratios.length > 0 ? [Math.min(...ratios), Math.max(...ratios)] : undefined }
}

const fixed = (v: number | undefined, digits: number): string => v === undefined ? '-' : v.toFixed(digits)
const rows = options.servers.map((name) => {
  const eps = summary(name, 'eventsPerSec')
  const cpu = summary(name, 'cpuPerEventUs')
  const failed = runs.filter((run) => run.server === name && run.failures.length > 0).length
  return { name, eps, cpu, failed, line: `| ${h2ServerLabels[name]} | ${fixed((eps.median ?? NaN) / 1e3, 0)}k (${fixed(eps.ratio, 2)}; rounds ${fixed(eps.spread?.[0], 2)}-${fixed(eps.spread?.[1], 2)}) | ${fixed(cpu.median, 2)} (${fixed(cpu.ratio, 2)}x) | ${failed}/${options.rounds} |` }
})
console.log(`\n| HTTP/2 server | events/s (x ${REFERENCE}) | CPU us/event (x ${REFERENCE}) | failed runs |\n|---|---|---|---|\n${rows.map((row) => row.line).join('\n')}\n`)
const goal = rows.find((row) => row.name === GOAL.server)?.eps.ratio
const verdict = goal === undefined ? 'not measured' : goal >= GOAL.ratio ? 'PASS' : 'FAIL'
console.log(`goal: ${GOAL.server} at >= ${GOAL.ratio} of ${REFERENCE}'s events/s: ${fixed(goal, 2)} ${verdict}; load ${loadBefore} before, ${load()} after`)

mkdirSync(dirname(options.out), { recursive: true })
writeFileSync(options.out, JSON.stringify({ date: new Date().toISOString(), revision: revision(), machine: machine(), load: { before: loadBefore, after: load() }, options, summary: rows.map(({ name, eps, cpu, failed }) => ({ name, eps, cpu, failed })), goal: { ...GOAL, measured: goal, verdict }, runs }, null, 2) + '\n')
log(`raw results: ${options.out}`)
