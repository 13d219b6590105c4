// The idle-streams server: the plugin, every stream a topics() relay on topic `t`, heartbeats on.
import Fastify from 'fastify'
import { ssePlugin, topics } from '../../lib/index.js'
import { serve } from '../ipc.js'

const heartbeat = Number(process.argv[2])
const app = Fastify()
await app.register(ssePlugin, { heartbeat, maxConnections: 100_000 })
app.get('/t', { chunk: true, handler: topics(() => ['t']) })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0
let cpuStart = process.cpuUsage()

serve({
  port: () => port,
  connections: () => app.sse.connections,
  /** RSS and heap, in bytes, after a full GC when --expose-gc is on. */
  memory: () => {
    globalThis.gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    return { rss, heapUsed }
  },
  cpuStart: () => { cpuStart = process.cpuUsage() },
  /** CPU since cpuStart, in µs. */
  cpuUsed: () => (({ user, system }) => user + system)(process.cpuUsage(cpuStart)),
  publish: async (data: string) => await app.sse.publish('t', data),
  close: async () => { await app.close() }
})
process.send?.({ ready: true })
