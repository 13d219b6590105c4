// One Fastify instance of the cross-instance benchmark, a child process of the runner (so each
// instance has its own event loop and CPU): the plugin on the memory broker or on Redis, streams on
// `GET /t` (topic `t`, the fan-out) and `GET /r` (topic `r`, the replay).
//
//   instance.ts memory
//   instance.ts redis <url> <prefix>

import { monitorEventLoopDelay } from 'node:perf_hooks'
import Fastify from 'fastify'
import { memoryBroker, ssePlugin, topics } from '../../lib/index.js'
import { redisBroker } from '../../lib/redis/index.js'
import { now, sleep } from '../clock.js'
import { serve } from '../ipc.js'
import { eventBatch, eventData } from '../payload.js'
import { listenFastify } from '../servers/shared.js'

export type BenchTopic = 't' | 'r'

const [kind, url, prefix] = process.argv.slice(2)
if (kind !== 'memory' && !(kind === 'redis' && url !== undefined && prefix !== undefined)) {
  throw new Error('usage: instance.ts memory | instance.ts redis <url> <prefix>')
}
const broker = kind === 'memory' ? memoryBroker() : redisBroker({ url }, { prefix })

const app = Fastify()
await app.register(ssePlugin, { broker })
app.get('/t', { chunk: true, handler: topics(() => ['t']) })
app.get('/r', { chunk: true, handler: topics(() => ['r']) })
const port = await listenFastify(app)

let closing: Promise<void> | undefined
const close = (): Promise<void> => (closing ??= app.close())

// How late this event loop ran its callbacks: a blocked loop shows in every stream's latency.
const loopDelay = monitorEventLoopDelay({ resolution: 1 })
loopDelay.enable()

const publish = (topic: BenchTopic, data: string): Promise<string> => app.sse.publish(topic, data)

const api = {
  info: () => ({ port, pid: process.pid }),
  connections: () => app.sse.connections,
  /** This process's CPU so far (µs, user + system): the runner takes differences. */
  cpu: () => {
    const { user, system } = process.cpuUsage()
    return user + system
  },
  /**
   * Publishes events `from`..`from+count-1` on `topic`, all before any is awaited: on Redis they go
   * out pipelined on one connection, so their order is kept and the round trips overlap.
   */
  async burst ({ topic, from, count, size }: { topic: BenchTopic, from: number, count: number, size: number }) {
    const batch = eventBatch(from, count, size)
    const t0 = now()
    await Promise.all(batch.map((data) => publish(topic, data)))
    return { t0, publishMs: now() - t0 }
  },
  loopDelayReset: () => { loopDelay.reset() },
  /** Event-loop delay since the last reset, ms (the histogram counts in ns). */
  loopDelay: () => ({ p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 }),
  /** `count` events on `t` at `rate` per second, each stamped with its publish time; failures counted. */
  async paced ({ from, count, size, rate }: { from: number, count: number, size: number, rate: number }) {
    const interval = 1000 / rate
    const start = now()
    let late = 0
    let failed = 0
    let firstError: string | undefined
    const pending: Array<Promise<unknown>> = []
    for (let i = 0; i < count; i++) {
      const wait = start + i * interval - now()
      if (wait > 1) await sleep(wait)
      else if (wait < -interval) late++
      // Not awaited one by one: a slow round trip must not delay the next publish's stamp.
      pending.push(publish('t', eventData(from + i, size, true)).catch((error: unknown) => {
        failed++
        firstError ??= (error as Error).message
      }))
    }
    await Promise.all(pending)
    return { ms: now() - start, late, failed, firstError }
  },
  close
}

export type InstanceApi = typeof api

serve(api)
process.send?.({ ready: true })
// Whatever ends the runner, the instance goes too (and quits its Redis connections when it can).
const quit = (): void => {
  setTimeout(() => process.exit(1), 5_000).unref()
  close().finally(() => process.exit(0))
}
process.once('SIGTERM', quit)
process.once('disconnect', quit)
