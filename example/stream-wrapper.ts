// Seed 004's stream-wrapper: GET /api/stream-wrapper relays an upstream stream to the client, chunk by
// chunk, and stops when the client goes away. As in the seed, the upstream is the ten-chunks endpoint
// of the same app ("the forwarding depends on the local stream, so the two examples are merged").
// The seed's Finch/Req task, its receive loop and its {:error, :closed} check are forward():
//   /api/stream-wrapper       the SSE upstream: events and ids as they are, Last-Event-ID goes up
//                             (a client that has all ten gets the upstream's 204)
//   /api/stream-wrapper.txt   the text upstream, relayed as it comes off the socket (upstream: 'raw')
// The upstream is read only as fast as the client reads, and its request is aborted the moment the
// client leaves; when the upstream ends, so does the stream (the seed had to send :done itself).
//
//   npx tsx example/stream-wrapper.ts        (CHUNK_INTERVAL=200 for a faster run)
//   curl -N http://127.0.0.1:3000/api/stream-wrapper
//   curl -N http://127.0.0.1:3000/api/stream-wrapper.txt
//   UPSTREAM=http://127.0.0.1:4000 ...       wrap another server's /api/stream instead
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { forward, ssePlugin } from '../lib/index.js'
import { registerTenChunks, type TenChunksOptions } from './ten-chunks.js'

export interface StreamWrapperOptions extends TenChunksOptions {
  /** The base URL of the server to wrap; default this app itself. */
  upstream?: string
  heartbeat?: number | false
}

export async function buildStreamWrapperApp (options: StreamWrapperOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: options.heartbeat })
  registerTenChunks(app, options)
  // Read at request time: the app's own port is known only once it listens.
  const base = (): string => options.upstream ?? `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  app.get('/api/stream-wrapper', { chunk: true, handler: forward(() => `${base()}/api/stream`) })
  app.get('/api/stream-wrapper.txt', {
    onRequest: async (_request, reply) => { reply.type('text/plain; charset=utf-8') },
    chunk: { format: 'raw' },
    handler: forward(() => `${base()}/api/stream.txt`, { upstream: 'raw' })
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildStreamWrapperApp({ upstream: process.env.UPSTREAM })
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Stream wrapper at ${address}/api/stream-wrapper  (curl -N ${address}/api/stream-wrapper)`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
