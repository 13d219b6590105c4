// `npm run bench:idle`: idle streams at the limit of one process (issue 13). One server process (the
// plugin, a topics() relay per stream, heartbeats on) and one load-generator process holding the
// streams over raw sockets from several loopback addresses. Reports the connect rate, memory per
// stream, the server's idle CPU, the longest silence a stream saw (in heartbeat intervals) and the
// time one published event takes to reach every stream.
//
// Options: --streams N (default 19,800: this machine caps a process at 20,000 open files),
// --heartbeat ms (15,000), --idle ms, the measured idle window (default 2.5 heartbeats), --batch N
// (connects in flight, 500), --quick (2,000 streams, heartbeat 2 s).
import { fileURLToPath } from 'node:url'
import { Child, type Api } from './ipc.js'
import { sleep } from './clock.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name)
  return at === -1 ? fallback : Number(args[at + 1])
}
const quick = args.includes('--quick')
const streams = option('--streams', quick ? 2000 : 19_800)
const heartbeat = option('--heartbeat', quick ? 2000 : 15_000)
const idle = option('--idle', Math.round(heartbeat * 2.5))
const batch = option('--batch', 500)

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const server = new Child<Api>('idle-server', here('./idle/server.ts'), [String(heartbeat)], ['--expose-gc'])
const loadgen = new Child<Api>('idle-loadgen', here('./idle/loadgen.ts'), [], [])
let failed = false
try {
  await Promise.all([server.ready(), loadgen.ready()])
  const port = await server.call('port', undefined) as number
  const before = await server.call('memory', undefined) as { rss: number, heapUsed: number }
  const open = await loadgen.call('open', { port, n: streams, batch }, 600_000) as { ms: number, failed: number, firstFailure?: string }
  if (open.failed > 0) failed = true
  await sleep(1000)
  const held = await server.call('connections', undefined) as number
  const after = await server.call('memory', undefined) as { rss: number, heapUsed: number }
  await loadgen.call('resetSilence', undefined)
  await server.call('cpuStart', undefined)
  await sleep(idle)
  const cpuUs = await server.call('cpuUsed', undefined) as number
  const silence = await loadgen.call('silence', undefined) as { max: number, p99: number, open: number, dropped: number }
  const delivered = loadgen.call('delivery', { timeoutMs: 30_000 }, 60_000)
  await server.call('publish', 'idle-probe')
  const delivery = await delivered as { p50: number, p99: number, max: number, missing: number }
  if (delivery.missing > 0 || silence.dropped > 0) failed = true
  const kib = (bytes: number): string => (bytes / 1024).toFixed(2)
  const rows: Array<[string, string]> = [
    ['streams opened / held by the server', `${streams - open.failed} / ${held}${open.failed > 0 ? ` (${open.failed} failed: ${open.firstFailure})` : ''}`],
    ['connect rate', `${Math.round((streams - open.failed) / (open.ms / 1000))} streams/s (${(open.ms / 1000).toFixed(1)} s)`],
    ['server RSS per stream', `${kib((after.rss - before.rss) / held)} KiB`],
    ['server heap per stream', `${kib((after.heapUsed - before.heapUsed) / held)} KiB`],
    [`server idle CPU over ${idle / 1000} s (heartbeat ${heartbeat / 1000} s)`, `${(cpuUs / 1000 / idle * 100).toFixed(2)} % of a core`],
    ['longest silence of a stream', `max ${(silence.max / heartbeat).toFixed(3)}, p99 ${(silence.p99 / heartbeat).toFixed(3)} heartbeat intervals`],
    ['one event to every stream', `p50 ${delivery.p50.toFixed(0)} ms, p99 ${delivery.p99.toFixed(0)} ms, last ${delivery.max.toFixed(0)} ms${delivery.missing > 0 ? `, ${delivery.missing} missing` : ''}`],
    ['streams dropped while idle', String(silence.dropped)]
  ]
  console.log(`idle streams on Node ${process.version}`)
  for (const [name, value] of rows) console.log(`  ${name.padEnd(52)} ${value}`)
  await loadgen.call('close', undefined)
  await server.call('close', undefined, 60_000)
} catch (error) {
  failed = true
  console.error(error)
} finally {
  await Promise.all([server.stop(), loadgen.stop()])
}
process.exitCode = failed ? 1 : 0
