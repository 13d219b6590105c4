// Seed 002, Pastelli: a streaming route that does not block the router, an initial chunk, a registry
// of connections, events and a close from wherever the connection is known, and the same connection
// over WebSocket. Pastelli's names, and ours:
//   init_chunk(conn, data, event:, retry:, id:)  init returns new Event({ data, event, retry, id })
//   register_stream(id), MyPlug.Connections      a Map from a connection's name to its token.id
//   Pastelli.Conn.event(conn, data, meta)        app.sse.send(token.id, new Event(...)) from any route
//   close_chunk                                  app.sse.close(token.id, final)
//   chunk_complete (the client went away)        terminate(reason): the registry forgets it
//   websocket_init / _handle / _info             the same handler: init, handle(ClientMessage), handle(other)
//
//   npx tsx example/pastelli.ts
//   curl -N http://127.0.0.1:3000/connections/slides                 (or a WebSocket to ws://.../connections/slides)
//   curl -X POST http://127.0.0.1:3000/connections/slides/events -H 'content-type: application/json' -d '{"data":{"slide":2},"event":"goto"}'
//   curl -X POST http://127.0.0.1:3000/connections/slides/info -H 'content-type: application/json' -d '{"hello":1}'
//   curl -X DELETE http://127.0.0.1:3000/connections/slides
//   curl http://127.0.0.1:3000/connections
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { type ChunkedHandler, Event, isClientMessage, ssePlugin } from '../lib/index.js'

interface Entry { id: string, transport: 'sse' | 'websocket' }

/** The app's own registry of streams, as MyPlug.Connections is Pastelli's. */
export interface Connections {
  open: Map<string, Entry>
  /** The last connections that ended, and why: what Pastelli's `chunk_complete` tells the owner. */
  left: Array<{ name: string, reason: string }>
}

const LEFT_KEPT = 100

export function connection (registry: Connections) {
  return {
    init (token) {
      const name = token.request.params.name
      const transport = token.request.headers.upgrade?.toLowerCase() === 'websocket' ? 'websocket' : 'sse'
      registry.open.set(name, { id: token.id, transport })
      token.state = { name }
      // The handshake goes out as soon as the route is done (over WebSocket: JSON, no retry).
      return new Event({ data: { text: 'hallo!' }, event: 'handshake', retry: 6000, id: '1234' })
    },
    handle (msg, token) {
      // websocket_handle: a message from the client (WebSocket only): answered on the same socket.
      if (isClientMessage(msg)) return typeof msg.data === 'string' ? new Event({ event: 'echo', data: msg.data }) : msg.data
      // websocket_info: any other message to the connection (app.sse.notify), on either transport.
      return new Event({ event: 'info', data: { name: token.state.name, msg } })
    },
    terminate (reason, token) {
      const { name } = token.state
      // A newer connection may have taken the name: only this one's entry goes.
      if (registry.open.get(name)?.id === token.id) registry.open.delete(name)
      registry.left.push({ name, reason })
      if (registry.left.length > LEFT_KEPT) registry.left.shift()
    }
  } satisfies ChunkedHandler<{ name: string }, unknown, FastifyRequest<{ Params: { name: string } }>>
}

interface EventBody { data: unknown, event?: string, id?: string, retry?: number }

export async function buildPastelliApp (options: { heartbeat?: number | false } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: options.heartbeat })
  const registry: Connections = { open: new Map(), left: [] }
  const params = { type: 'object', properties: { name: { type: 'string', pattern: '^[\\w-]{1,64}$' } } }

  // One route, two transports: EventSource (or curl) gets SSE, a WebSocket upgrade gets the same handler.
  app.get<{ Params: { name: string } }>('/connections/:name', { schema: { params }, chunk: { websocket: true }, handler: connection(registry) })

  // Pastelli.Conn.event/3 from an ordinary route: the data is serialized, the event goes through the
  // stream's mailbox, in order with what its handler writes.
  app.post<{ Params: { name: string }, Body: EventBody }>('/connections/:name/events', {
    schema: {
      params,
      body: {
        type: 'object',
        required: ['data'],
        additionalProperties: false,
        properties: { data: {}, event: { type: 'string' }, id: { type: 'string' }, retry: { type: 'integer', minimum: 0 } }
      }
    }
  }, async (request, reply) => {
    const entry = registry.open.get(request.params.name)
    if (entry === undefined) return reply.code(404).send({ error: 'no such connection' })
    let event: Event
    try {
      event = new Event(request.body)
    } catch (error) {
      // A line break in an event name or id would forge a field: the caller's mistake, a 400.
      return reply.code(400).send({ error: (error as Error).message })
    }
    return app.sse.send(entry.id, event) ? reply.code(202).send({ sent: true }) : reply.code(404).send({ error: 'no such connection' })
  })

  // A message to the connection, as Erlang's send(Pid, Msg): its handler decides what to write.
  app.post<{ Params: { name: string } }>('/connections/:name/info', { schema: { params } }, async (request, reply) => {
    const entry = registry.open.get(request.params.name)
    if (entry === undefined || !app.sse.notify(entry.id, request.body)) return reply.code(404).send({ error: 'no such connection' })
    return reply.code(202).send({ delivered: true })
  })

  // close_chunk: ends that stream after what it was sent before.
  app.delete<{ Params: { name: string } }>('/connections/:name', { schema: { params } }, async (request, reply) => {
    const entry = registry.open.get(request.params.name)
    if (entry === undefined || !app.sse.close(entry.id, new Event({ event: 'closed', data: 'closed by the server' }))) {
      return reply.code(404).send({ error: 'no such connection' })
    }
    return reply.code(204).send()
  })

  app.get('/connections', async () => ({
    open: [...registry.open].map(([name, { transport }]) => ({ name, transport })),
    left: registry.left
  }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildPastelliApp()
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Pastelli connections at ${address}/connections/:name  (curl -N ${address}/connections/slides)`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
