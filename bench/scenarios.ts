// The scenarios, each run against one server process, with the load generator already running.

import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { sleep } from './clock.js'
import { Child } from './ipc.js'
import type { LoadgenApi } from './loadgen.js'
import type { BenchOptions } from './options.js'
import type { BigRun, FanoutResult, LatencyResult, ServerRun } from './results.js'
import type { ServerApi } from './server-host.js'
import type { ServerName } from './servers/index.js'
import { median } from './stats.js'

const here = fileURLToPath(new URL('.', import.meta.url))
export const resultsDir = join(here, 'results')

type Loadgen = Child<LoadgenApi>
type Server = Child<ServerApi>

/** The plugin's default shutdownTimeout: the budget's bound on `fastify.close()`. */
const SHUTDOWN_TIMEOUT_MS = 5_000

export function startLoadgen (): Loadgen {
  return new Child<LoadgenApi>('loadgen', join(here, 'loadgen.ts'), [], [])
}

async function startServer (name: ServerName): Promise<Server> {
  const server = new Child<ServerApi>(name, join(here, 'server-host.ts'), [name], ['--expose-gc'])
  await server.ready()
  return server
}

function profilePath (name: ServerName, round: number, step: string): string {
  return join(resultsDir, `${name}-r${round}-${step}.cpuprofile`)
}

/** One burst of `count` events to every open stream: delivered events/s and server CPU per event. */
async function fanout (server: Server, loadgen: Loadgen, from: number, count: number, options: BenchOptions): Promise<FanoutResult> {
  await loadgen.call('expect', { from, count, stamped: false })
  const burst = await server.call('burst', { from, count, size: options.size }, options.timeoutMs)
  const got = await loadgen.call('wait', { timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
  const cpuUs = await server.call('cpu', undefined)
  const ms = got.tLast - burst.t0
  return {
    streams: got.streams,
    expected: got.expected,
    delivered: got.delivered,
    missing: got.missing,
    orderErrors: got.orderErrors,
    stray: got.stray,
    ms,
    eventsPerSec: got.delivered / (ms / 1000),
    cpuUs,
    cpuPerEventUs: cpuUs / Math.max(1, got.delivered),
    firstMs: got.tFirst - burst.t0,
    publishMs: burst.publishMs,
    flushMs: burst.flushMs,
    loadgenBusy: got.loadgenCpuUs / 1000 / ms,
    ok: got.complete && got.missing === 0 && got.orderErrors === 0 && got.stray === 0
  }
}

async function latency (server: Server, loadgen: Loadgen, from: number, options: BenchOptions): Promise<LatencyResult> {
  const count = options.latencyEvents
  await loadgen.call('expect', { from, count, stamped: true })
  const paced = await server.call('paced', { from, count, size: options.size, rate: options.rate }, options.timeoutMs + count * 1000 / options.rate)
  const got = await loadgen.call('wait', { timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
  const l = got.latency ?? { p50: NaN, p99: NaN, max: NaN, samples: 0 }
  return {
    rate: options.rate,
    events: count,
    ...l,
    missing: got.missing,
    orderErrors: got.orderErrors,
    late: paced.late,
    ok: got.complete && got.missing === 0 && got.orderErrors === 0 && got.stray === 0
  }
}

/** The burst of median throughput, failed if any burst failed (a lost event is never averaged away). */
function medianBurst (bursts: FanoutResult[]): FanoutResult {
  const sorted = [...bursts].sort((a, b) => a.eventsPerSec - b.eventsPerSec)
  const middle = sorted[(sorted.length - 1) >> 1]
  const cpu = median(bursts.map((burst) => burst.cpuPerEventUs))!
  return { ...middle, cpuPerEventUs: cpu, cpuUs: cpu * middle.delivered, ok: bursts.every((burst) => burst.ok) }
}

function describe (what: string, result: { missing: number, orderErrors: number, stray?: number }): string {
  return `${what}: ${result.missing} events missing, ${result.orderErrors} out of order${result.stray ? `, ${result.stray} stray` : ''}`
}

/** Waits until the server has seen every stream go (bounded). */
async function drained (server: Server, timeoutMs: number): Promise<number> {
  const start = Date.now()
  let open = await server.call('connections', undefined)
  while (open > 0 && Date.now() - start < timeoutMs) {
    await sleep(20)
    open = await server.call('connections', undefined)
  }
  return open
}

/**
 * Runs `steps` against a fresh server process; whatever fails is recorded in `run`, and the server
 * and the load generator's streams are closed whatever happened.
 */
async function measure<Run extends { ok: boolean, failures: string[] }> (name: ServerName, run: Run, loadgen: Loadgen, steps: (server: Awaited<ReturnType<typeof startServer>>) => Promise<void>): Promise<Run> {
  const server = await startServer(name)
  try {
    await steps(server)
  } catch (error) {
    run.failures.push((error as Error).message)
  } finally {
    await loadgen.call('close', undefined).catch(() => {})
    await server.stop()
  }
  run.ok = run.failures.length === 0
  return run
}

/** Memory, fan-out, latency and new streams per second against one fresh server process. */
export async function runServer (name: ServerName, round: number, options: BenchOptions, loadgen: Loadgen): Promise<ServerRun> {
  const run: ServerRun = { round, server: name, ok: false, failures: [] }
  return await measure(name, run, loadgen, async (server) => {
    const { port } = await server.call('info', undefined)
    // Streams opened and closed once first, so the baseline holds what serving a first request
    // compiles and creates lazily (code, pools): only what each open stream holds is left to count.
    await loadgen.call('openAndClose', { port, n: Math.min(200, options.clients), batch: options.connectBatch, timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
    await drained(server, 5_000)
    const before = await server.call('memory', undefined)
    if (options.heapSnapshot) await server.call('heapSnapshot', { path: join(resultsDir, `${name}-r${round}-before.heapsnapshot`) }, 120_000)
    const open = await loadgen.call('open', { port, n: options.clients, batch: options.rampBatch, timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
    if (open.failed > 0) run.failures.push(`open: ${open.failed} of ${options.clients} streams failed (${open.firstFailure})`)
    await sleep(100) // let what opening scheduled (first writes, timers) settle before measuring
    const after = await server.call('memory', undefined)
    run.memory = { streams: open.opened, before: before.total, after: after.total, perStreamBytes: (after.total - before.total) / Math.max(1, open.opened) }
    if (options.heapSnapshot) await server.call('heapSnapshot', { path: join(resultsDir, `${name}-r${round}-after.heapsnapshot`) }, 120_000)

    const warm = await fanout(server, loadgen, 1, options.warmupEvents, options)
    if (!warm.ok) run.failures.push(describe('warm-up', warm))
    // With --cpu-prof the profile covers the measured bursts alone (not startup, opening or the warm-up).
    if (options.cpuProf === 'fanout') await server.call('profileStart', { intervalUs: 100 })
    let next = 1 + options.warmupEvents
    const bursts: FanoutResult[] = []
    for (let i = 0; i < options.bursts; i++, next += options.events) bursts.push(await fanout(server, loadgen, next, options.events, options))
    if (options.cpuProf === 'fanout') await server.call('profileStop', { path: profilePath(name, round, 'fanout') })
    run.fanout = medianBurst(bursts)
    run.bursts = bursts
    for (const burst of bursts) if (!burst.ok) run.failures.push(describe('fan-out', burst))
    run.latency = await latency(server, loadgen, next, options)
    if (!run.latency.ok) run.failures.push(describe('latency', run.latency))

    await loadgen.call('close', undefined)
    const left = await drained(server, 5_000)
    if (left > 0) run.failures.push(`${left} streams still open on the server 5 s after the clients left`)
    if (options.cpuProf === 'connect') await server.call('profileStart', { intervalUs: 100 })
    await server.call('cpuReset', undefined)
    const connect = await loadgen.call('open', { port, n: options.clients, batch: options.connectBatch, timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
    const connectCpuUs = await server.call('cpu', undefined)
    await loadgen.call('close', undefined)
    if (options.cpuProf === 'connect') await server.call('profileStop', { path: profilePath(name, round, 'connect') })
    run.connect = { opened: connect.opened, failed: connect.failed, ms: connect.ms, rate: connect.rate, cpuPerStreamUs: connectCpuUs / Math.max(1, connect.opened), ok: connect.failed === 0 }
    if (connect.failed > 0) run.failures.push(`new streams: ${connect.failed} failed (${connect.firstFailure})`)
    await drained(server, 5_000)
    await server.call('close', undefined)
  })
}

/**
 * A run against node-direct that is not recorded: the load generator's parser is compiled and
 * optimized before the first measured server, which otherwise would be measured against a cold client.
 */
export async function warmLoadgen (options: BenchOptions, loadgen: Loadgen): Promise<void> {
  await runServer('node-direct', 0, { ...options, bursts: 2, latencyEvents: Math.min(50, options.latencyEvents), cpuProf: undefined, heapSnapshot: false }, loadgen)
}

/** Many open streams: every event delivered, then `fastify.close()` within shutdownTimeout. */
export async function runBig (name: ServerName, round: number, options: BenchOptions, loadgen: Loadgen): Promise<BigRun> {
  const run: BigRun = { round, server: name, streams: options.bigStreams, opened: 0, openMs: 0, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS, ok: false, failures: [] }
  return await measure(name, run, loadgen, async (server) => {
    run.loadgenFds = await loadgen.call('fds', undefined)
    const { port } = await server.call('info', undefined)
    const open = await loadgen.call('open', { port, n: options.bigStreams, batch: options.rampBatch * 2, timeoutMs: options.timeoutMs }, options.timeoutMs + 5_000)
    run.opened = open.opened
    run.openMs = open.ms
    if (open.failed > 0) run.failures.push(`open: ${open.failed} of ${options.bigStreams} streams failed (${open.firstFailure})`)
    run.fanout = await fanout(server, loadgen, 1, options.events, options)
    if (!run.fanout.ok) run.failures.push(describe('fan-out', run.fanout))
    const closed = await server.call('close', undefined, SHUTDOWN_TIMEOUT_MS * 4)
    run.closeMs = closed.ms
    if (closed.ms > SHUTDOWN_TIMEOUT_MS) run.failures.push(`fastify.close() took ${closed.ms.toFixed(0)} ms (shutdownTimeout ${SHUTDOWN_TIMEOUT_MS} ms)`)
    const ended = await loadgen.call('ended', { timeoutMs: 10_000 }, 15_000)
    run.ended = ended.ended
    if (ended.ended < ended.of) run.failures.push(`${ended.of - ended.ended} streams not ended after close`)
  })
}
