// Compile-time checks, run by `npm run typecheck` (part of `npm test`): the route forms of DESIGN.md
// type-check without a cast, and a wrong handler is a compile error.
import t from 'tap'
import Fastify from 'fastify'
import { chunked, type ChunkedHandler, Event, isPublished, noContent, type Published, ssePlugin, stop, topics } from '../lib/index.js'

const Ping = {
  init: (token) => {
    token.state = { count: 0 }
    token.every(1000, 'ping')
  },
  handle: (_msg, token) => new Event({ event: 'ping', data: { count: ++token.state.count } }),
  terminate: () => {},
  handleError: () => {}
} satisfies ChunkedHandler<{ count: number }, 'ping'>

const Relay = {
  handle (msg) {
    if (isPublished(msg)) return msg.event
    return stop()
  }
} satisfies ChunkedHandler<unknown, Published | 'stop'>

export async function routes (): Promise<void> {
  const app = Fastify()
  await app.register(ssePlugin, { heartbeat: 15_000, mailbox: { limit: 10, overflow: 'drop-oldest' }, maxConnections: 10 })
  app.get('/ping', { chunk: true, handler: Ping })
  app.get<{ Params: { room: string } }>('/rooms/:room', { chunk: true, handler: topics((req) => [`room:${req.params.room}`]) })
  app.get('/async-topics', { chunk: true, handler: topics(async () => ['a', 'b']) })
  app.get('/count', { chunk: true, handler: async function * () { yield 'data: 1\n\n'; yield new Event({ data: 2 }) } })
  app.get('/log', { chunk: { format: 'ndjson', heartbeat: false }, handler: Relay })
  app.get('/plain-fastify', chunked(Ping))
  app.get('/feed', async (request, reply) => {
    if (request.headers.authorization === undefined) return reply.code(401).send()
    return reply.chunk(Ping, { state: { count: 1 } })
  })
  app.route({ method: 'GET', url: '/route', chunk: true, handler: Ping })
  app.get('/none', { chunk: true, handler: { init: () => noContent() } })
  const position: Promise<string> = app.sse.publish('room:1', { text: 'hi' }, { event: 'message' })
  void position
  const delivered: boolean = app.sse.notify('id', 'ping')
  void delivered

  // @ts-expect-error a handler's handle must return chunks, not a number
  app.get('/wrong', { chunk: true, handler: { handle: () => 42 } })
  // @ts-expect-error init may not return a number either
  app.get('/wrong-init', { chunk: true, handler: { init: () => 42 } })
  // @ts-expect-error the satisfies check catches a handler whose state does not match
  void ({ init (token) { token.state = { count: 'zero' } } } satisfies ChunkedHandler<{ count: number }, 'ping'>)
  // @ts-expect-error params are typed from the route generic
  app.get<{ Params: { room: string } }>('/typo/:room', { chunk: true, handler: topics((req) => [req.params.rooom]) })
}

t.test('the route forms type-check (checked by tsc in npm test)', async (t) => {
  t.type(routes, 'function')
})
