// Seed 004 (notes on SSE with Phoenix), its first endpoint: GET /api/stream sends ten chunks a second
// apart, then ends. The seed's controller loops with Process.sleep between chunk(conn, ...) calls and
// labels plain lines `text/event-stream`; here the same ten chunks come two ways:
//   /api/stream       real SSE events `data: 分片数据 N` with id N: a client that comes back with
//                     Last-Event-ID gets the rest, and a 204 once it has all ten (EventSource stops)
//   /api/stream.txt   the seed's own bytes, `分片数据 N\n`, as text/plain, from an async generator
//
//   npx tsx example/ten-chunks.ts        (CHUNK_INTERVAL=200 for a faster run)
//   curl -N http://127.0.0.1:3000/api/stream
//   curl -N http://127.0.0.1:3000/api/stream.txt
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import { type ChunkedHandler, Event, noContent, ssePlugin, stop, type Token } from '../lib/index.js'

export const CHUNKS = 10

export interface TenChunksOptions {
  /** ms between two chunks; default CHUNK_INTERVAL from the environment, else 1000 (the seed's). */
  interval?: number
}

function intervalOf (options: TenChunksOptions): number {
  return options.interval ?? Number(process.env.CHUNK_INTERVAL ?? 1000)
}

const chunk = (n: number): Event => new Event({ id: String(n), data: `分片数据 ${n}` })

/** Timers owned by the stream rather than a sleeping loop: a client that leaves stops them. */
export function tenEvents (interval: number) {
  return {
    init (token) {
      const after = Number(token.lastEventId ?? 0) || 0
      if (after >= CHUNKS) return noContent() // it has them all: stop reconnecting
      token.state = { n: after + 1 }
      token.every(interval, 'next')
      return chunk(token.state.n) // the first one at once, as the seed's loop does
    },
    handle (_msg, token) {
      const n = ++token.state.n
      return n === CHUNKS ? stop(chunk(n)) : chunk(n)
    }
  } satisfies ChunkedHandler<{ n: number }, 'next'>
}

/** The seed's loop as it is: chunk, sleep, chunk. token.signal ends the sleep when the client leaves. */
export function tenLines (interval: number) {
  return async function * (token: Token) {
    for (let n = 1; n <= CHUNKS; n++) {
      if (n > 1) await sleep(interval, undefined, { signal: token.signal })
      yield `分片数据 ${n}\n`
    }
  }
}

/** The routes, for an app of your own (the stream-wrapper example serves them beside its wrapper). */
export function registerTenChunks (app: FastifyInstance, options: TenChunksOptions = {}): void {
  const interval = intervalOf(options)
  app.get('/api/stream', { chunk: true, handler: tenEvents(interval) })
  app.get('/api/stream.txt', {
    // A raw stream keeps the Content-Type the route sets (Aino's response_header).
    onRequest: async (_request, reply) => { reply.type('text/plain; charset=utf-8') },
    chunk: { format: 'raw' },
    handler: tenLines(interval)
  })
}

export async function buildTenChunksApp (options: TenChunksOptions & { heartbeat?: number | false } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: options.heartbeat })
  registerTenChunks(app, options)
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildTenChunksApp()
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Ten chunks at ${address}/api/stream  (curl -N ${address}/api/stream, or ${address}/api/stream.txt)`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
