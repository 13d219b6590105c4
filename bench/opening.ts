// `npm run bench:opening`: new streams per second and server CPU per new stream, two servers side by
// side. Both server processes live for the whole run and the load generator alternates between them
// batch by batch (A, B, B, A, ...), so drift in the machine's load falls on both alike; the report is
// the median of the per-pair ratios. Usage: [--servers a,b] [--pairs N] [--streams N] [--batch N]
// [--cpu-prof PREFIX] (the candidate's profile while it opens each measured batch: PREFIX-N.cpuprofile)

import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { Child } from './ipc.js'
import type { LoadgenApi } from './loadgen.js'
import type { ServerApi } from './server-host.js'
import { isServerName, type ServerName } from './servers/index.js'
import { median } from './stats.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const args = process.argv.slice(2)
const value = (name: string, fallback: string): string => {
  const at = args.indexOf(name)
  return at === -1 ? fallback : args[at + 1]
}
const names = value('--servers', 'fastify-hijack-bare,plugin-relay').split(',')
if (names.length !== 2 || !names.every(isServerName)) throw new Error('--servers takes two server names: reference,candidate')
const [reference, candidate] = names as [ServerName, ServerName]
/** Measured pairs (each server opens its batch once per pair), streams per batch, concurrent connects. */
const pairs = Number(value('--pairs', '15'))
const streams = Number(value('--streams', '2000'))
const batch = Number(value('--batch', '100'))
const profile = args.includes('--cpu-prof') ? value('--cpu-prof', '') : undefined
const TIMEOUT_MS = 60_000

/**
 * The load generator on the first core, both servers (one busy at a time) on the last: neither
 * migrates nor competes with the other, which keeps CPU per stream steady from batch to batch.
 */
function pin (): void {
  const last = availableParallelism() - 1
  if (last === 0) return
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(loadgen.pid)], { stdio: 'ignore' })
    for (const server of servers) execFileSync('taskset', ['-a', '-p', '-c', String(last), String(server.pid)], { stdio: 'ignore' })
  } catch {
    console.log('taskset is not there: the processes are not pinned to cores')
  }
}

interface Sample { rate: number, cpuUs: number }

async function openBatch (server: Child<ServerApi>, loadgen: Child<LoadgenApi>, port: number, profilePath?: string): Promise<Sample> {
  if (profilePath !== undefined) await server.call('profileStart', { intervalUs: 100 })
  await server.call('cpuReset', undefined)
  const opened = await loadgen.call('open', { port, n: streams, batch, timeoutMs: TIMEOUT_MS }, TIMEOUT_MS + 5_000)
  const cpu = await server.call('cpu', undefined)
  if (profilePath !== undefined) await server.call('profileStop', { path: profilePath })
  if (opened.failed > 0) throw new Error(`${opened.failed} of ${streams} streams failed (${opened.firstFailure})`)
  await loadgen.call('close', undefined)
  return { rate: opened.rate, cpuUs: cpu / opened.opened }
}

const loadgen = new Child<LoadgenApi>('loadgen', join(here, 'loadgen.ts'), [], [])
const servers = [reference, candidate].map((name) => new Child<ServerApi>(name, join(here, 'server-host.ts'), [name], ['--expose-gc']))
try {
  await Promise.all([loadgen.ready(), ...servers.map((server) => server.ready())])
  pin()
  const ports = await Promise.all(servers.map(async (server) => (await server.call('info', undefined)).port))
  // One unrecorded pair: what the first requests compile and create lazily is not counted.
  for (let i = 0; i < 2; i++) await openBatch(servers[i], loadgen, ports[i])
  const rateRatios: number[] = []
  const cpuRatios: number[] = []
  const samples: Sample[][] = [[], []]
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0]
    const got: Sample[] = []
    for (const i of order) got[i] = await openBatch(servers[i], loadgen, ports[i], i === 1 && profile !== undefined ? `${profile}-${pair + 1}.cpuprofile` : undefined)
    for (const i of [0, 1]) samples[i].push(got[i])
    rateRatios.push(got[1].rate / got[0].rate)
    cpuRatios.push(got[1].cpuUs / got[0].cpuUs)
    console.log(`pair ${pair + 1}: ${reference} ${got[0].rate.toFixed(0)}/s ${got[0].cpuUs.toFixed(0)} us, ${candidate} ${got[1].rate.toFixed(0)}/s ${got[1].cpuUs.toFixed(0)} us`)
  }
  const m = (values: number[]): string => median(values)!.toFixed(3)
  console.log(`\n${streams} streams a batch, ${batch} connecting at once, ${pairs} pairs`)
  for (const i of [0, 1]) {
    console.log(`${[reference, candidate][i]}: median ${median(samples[i].map((s) => s.rate))!.toFixed(0)} streams/s, ${median(samples[i].map((s) => s.cpuUs))!.toFixed(1)} us CPU a stream`)
  }
  console.log(`${candidate} / ${reference}: new streams/s ${m(rateRatios)} (median of pairs), CPU per new stream ${m(cpuRatios)}`)
} finally {
  await loadgen.call('close', undefined).catch(() => {})
  await Promise.all([loadgen.stop(), ...servers.map((server) => server.stop())])
}
