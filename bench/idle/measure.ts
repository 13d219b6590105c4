// One measurement of the idle scenario on one server kind: a server child and a load-generator
// child, the streams opened, memory before and after, CPU and silences over the idle window, then
// one event published and timed to the last stream. Both children are stopped whatever happens.
import { fileURLToPath } from 'node:url'
import { sleep } from '../clock.js'
import { Child, type Api } from '../ipc.js'

export interface IdleOptions { streams: number, heartbeat: number, idle: number, batch: number, profile: string | undefined }

export interface IdleResult {
  kind: 'plugin' | 'node'
  opened: number
  held: number
  firstFailure: string | undefined
  connectMs: number
  /** Before any stream, bytes. */
  rssBase: number
  rssPerStream: number
  heapPerStream: number
  /** Over the idle window, µs. */
  cpu: { user: number, system: number }
  /** Longest silence of a stream over the idle window, ms. */
  silence: { max: number, p99: number }
  dropped: number
  /** Publish to each stream's receipt, ms. */
  delivery: { p50: number, p99: number, max: number, missing: number }
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

export async function measure (kind: IdleResult['kind'], options: IdleOptions): Promise<IdleResult> {
  const { streams, heartbeat, idle, batch, profile } = options
  const server = new Child<Api>(`idle-${kind}-server`, here('./server.ts'), [kind, String(heartbeat)], ['--expose-gc'])
  const loadgen = new Child<Api>('idle-loadgen', here('./loadgen.ts'), [], [])
  try {
    await Promise.all([server.ready(), loadgen.ready()])
    const port = await server.call('port', undefined) as number
    const before = await server.call('memory', undefined) as { rss: number, heapUsed: number }
    const open = await loadgen.call('open', { port, n: streams, batch }, 600_000) as { ms: number, failed: number, firstFailure?: string }
    await sleep(1000)
    const held = await server.call('connections', undefined) as number
    const after = await server.call('memory', undefined) as { rss: number, heapUsed: number }
    await loadgen.call('resetSilence', undefined)
    await server.call('cpuStart', { profile: profile !== undefined })
    await sleep(idle)
    const cpu = await server.call('cpuUsed', { path: profile }, 120_000) as IdleResult['cpu']
    const silence = await loadgen.call('silence', undefined) as { max: number, p99: number, dropped: number }
    const t0 = await server.call('publish', 'idle-probe', 60_000) as number
    const delivery = await loadgen.call('delivery', { t0, timeoutMs: 30_000 }, 60_000) as IdleResult['delivery']
    await loadgen.call('close', undefined)
    await server.call('close', undefined, 60_000)
    return {
      kind,
      opened: streams - open.failed,
      held,
      firstFailure: open.firstFailure,
      connectMs: open.ms,
      rssBase: before.rss,
      rssPerStream: (after.rss - before.rss) / held,
      heapPerStream: (after.heapUsed - before.heapUsed) / held,
      cpu,
      silence,
      dropped: silence.dropped,
      delivery
    }
  } finally {
    await Promise.all([server.stop(), loadgen.stop()])
  }
}
