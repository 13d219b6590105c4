// This plugin, every stream subscribed to topic `t`; events go through `app.sse.publish`.
import Fastify from 'fastify'
import { ssePlugin, type StreamHandler } from '../../lib/index.js'
import { listenFastify } from './shared.js'
import type { BenchServer } from './types.js'

export async function startPlugin (handler: StreamHandler): Promise<BenchServer> {
  const app = Fastify()
  await app.register(ssePlugin)
  app.get('/t', { chunk: true, handler })
  const port = await listenFastify(app)
  const publish = (data: string): Promise<string> => app.sse.publish('t', data)
  return {
    port,
    connections: () => app.sse.connections,
    // Every publish of the burst is made before any is awaited: the broker delivers synchronously,
    // so the whole burst reaches the sockets in one tick.
    burst: async (batch) => { await Promise.all(batch.map(publish)) },
    publish,
    close: () => app.close()
  }
}
