// `npm run bench:idle`: idle streams at the limit of one process (issue 13). A server child (the
// plugin, a topics() relay per stream, heartbeats on) and a load-generator child holding the streams
// over raw sockets from several loopback addresses; then the same against node:http, which keeps the
// responses open and writes a comment to each once an interval: the floor of what heartbeats cost.
// Reports the connect rate, memory per stream, the server's idle CPU, the longest silence a stream
// saw (in heartbeat intervals) and the time one published event takes to reach every stream.
//
// Options: --streams N (default 19,800: this machine caps a process at 20,000 open files),
// --heartbeat ms (15,000), --idle ms, the measured idle window (default 8/3 of the heartbeat: 40 s),
// --batch N (connects in flight, 500), --quick (2,000 streams, heartbeat 2 s, idle 6 s),
// --plugin-only (skip node:http), --cpu-prof FILE (profile the plugin server over the idle window).
// Exits 1 when a stream failed to open, dropped, or missed the event.
import { measure, type IdleOptions, type IdleResult } from './idle/measure.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name)
  if (at === -1) return fallback
  const value = Number(args[at + 1])
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} takes a positive integer, got ${args[at + 1]}`)
  return value
}
const quick = args.includes('--quick')
const heartbeat = option('--heartbeat', quick ? 2000 : 15_000)
const profileAt = args.indexOf('--cpu-prof')
const options: IdleOptions = {
  streams: option('--streams', quick ? 2000 : 19_800),
  heartbeat,
  idle: option('--idle', quick ? 6000 : Math.round(heartbeat * 8 / 3)),
  batch: option('--batch', 500),
  profile: profileAt === -1 ? undefined : args[profileAt + 1]
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(2)
const ms = (value: number): string => Number.isFinite(value) ? value.toFixed(0) : 'never'
const rows: Array<[string, (r: IdleResult) => string]> = [
  ['streams opened / held by the server', (r) => `${r.opened} / ${r.held}${r.firstFailure !== undefined ? ` (failed: ${r.firstFailure})` : ''}`],
  ['connect rate (streams/s)', (r) => `${Math.round(r.opened / (r.connectMs / 1000))} (${(r.connectMs / 1000).toFixed(1)} s)`],
  ['server RSS before any stream (MiB)', (r) => (r.rssBase / 2 ** 20).toFixed(1)],
  ['server RSS / heap per stream (KiB)', (r) => `${kib(r.rssPerStream)} / ${kib(r.heapPerStream)}`],
  ['server idle CPU (% of a core)', (r) => ((r.cpu.user + r.cpu.system) / 10 / options.idle).toFixed(2)],
  ['  of which user / system', (r) => `${(r.cpu.user / 10 / options.idle).toFixed(2)} / ${(r.cpu.system / 10 / options.idle).toFixed(2)}`],
  ['  per stream and heartbeat interval (µs)', (r) => ((r.cpu.user + r.cpu.system) / (r.held * options.idle / heartbeat)).toFixed(1)],
  ['longest silence, max / p99 (intervals)', (r) => `${(r.silence.max / heartbeat).toFixed(3)} / ${(r.silence.p99 / heartbeat).toFixed(3)}`],
  ['one event to every stream, p50 / p99 / last (ms)', (r) => `${ms(r.delivery.p50)} / ${ms(r.delivery.p99)} / ${ms(r.delivery.max)}${r.delivery.missing > 0 ? ` (${r.delivery.missing} missing)` : ''}`],
  ['streams dropped while idle', (r) => String(r.dropped)]
]

let failed = false
const results: IdleResult[] = []
try {
  for (const kind of args.includes('--plugin-only') ? ['plugin'] as const : ['plugin', 'node'] as const) {
    const result = await measure(kind, { ...options, profile: kind === 'plugin' ? options.profile : undefined })
    results.push(result)
    if (result.opened < options.streams || result.dropped > 0 || result.delivery.missing > 0) failed = true
  }
} catch (error) {
  failed = true
  console.error(error)
}
console.log(`idle streams on Node ${process.version}: ${options.streams} streams, heartbeat ${heartbeat / 1000} s, idle window ${options.idle / 1000} s`)
console.log(`  ${''.padEnd(50)} ${results.map((r) => (r.kind === 'plugin' ? 'plugin' : 'node:http').padEnd(24)).join(' ')}`)
for (const [name, show] of rows) console.log(`  ${name.padEnd(50)} ${results.map((r) => show(r).padEnd(24)).join(' ')}`)
process.exitCode = failed ? 1 : 0
