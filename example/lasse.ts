// Seed 001, Lasse (an SSE loop handler for Cowboy), as a handler object. Lasse's names, and ours:
//   init(InitArgs, LastEventId, Req)  lasse(initArgs).init(token): token.lastEventId, token.request
//     {ok, Req, State}                return nothing: the stream opens
//     {ok, Req, InitialEvents, State} return Chunk[]: written first
//     {no_content, Req, State}        return noContent(): a 204, EventSource stops
//     {shutdown, Status, Headers, Body, ...}  return shutdown(status, { headers, body })
//   notify(Pid, Msg), handle_notify   app.sse.notify(token.id, msg), handleNotify
//   handle_info (out-of-band)         handle: the stream's own timers and token.send
//   result(): send | nosend | stop    an Event | nothing | stop(final?)
//   handle_error, terminate           handleError, terminate
//
//   npx tsx example/lasse.ts
//   curl -N 'http://127.0.0.1:3000/events?user=ann'
//   curl -X POST http://127.0.0.1:3000/notify/ann -H 'content-type: application/json' -d '{"text":"hi"}'
//   curl -X POST http://127.0.0.1:3000/notify/ann -H 'content-type: application/json' -d '{"stop":true}'
//   curl http://127.0.0.1:3000/journal          what each callback did
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { type ChunkedHandler, Event, noContent, shutdown, ssePlugin, stop } from '../lib/index.js'

interface Query { user?: string, once?: string }

/** What a notification may carry (the body of POST /notify/:user). */
export interface Notification {
  text?: string
  event?: string
  raw?: unknown
  stop?: boolean
}

/** Lasse's InitArgs: what every stream of the route shares. */
export interface InitArgs {
  /** Refused with a 403, thrown through Fastify's error handler. */
  banned: ReadonlySet<string>
  /** ms between `tick` messages to `handle` (Lasse's handle_info); false: none. */
  tick: number | false
  /** The address book for notify: user -> token.id. */
  streams: Map<string, string>
  /** Users whose feed is over: their next request gets a 204. */
  finished: Set<string>
  /** One line per callback (the last 100), so the lifecycle can be read from outside (GET /journal). */
  journal: string[]
}

interface State { user: string, sent: number }

const JOURNAL_KEPT = 100

function note (args: InitArgs, line: string): void {
  args.journal.push(line)
  if (args.journal.length > JOURNAL_KEPT) args.journal.shift() // a long-running demo stays bounded
}

export function lasse (args: InitArgs) {
  const next = (state: State, event: string, data: unknown): Event => new Event({ event, data, id: String(++state.sent) })
  return {
    init (token) {
      const { user, once } = token.request.query
      if (user === undefined || user === '') {
        return shutdown(400, { headers: { 'cache-control': 'no-store' }, body: { error: 'a user is required: ?user=NAME' } })
      }
      if (args.banned.has(user)) throw Object.assign(new Error(`${user} may not listen`), { statusCode: 403 })
      if (args.finished.has(user)) return noContent()
      note(args, `init ${user}`)
      // Lasse hands init the Last-Event-ID; here it numbers the events that follow.
      token.state = { user, sent: Number(token.lastEventId ?? 0) || 0 }
      if (once !== undefined) return stop(next(token.state, 'snapshot', { user, streams: args.streams.size }))
      args.streams.set(user, token.id)
      if (args.tick !== false) token.every(args.tick, 'tick')
      if (token.lastEventId === undefined) return undefined
      // Initial events, with every field Lasse knows: comment, event, id, retry, data.
      return [Event.comment('welcome back'), new Event({ event: 'resumed', id: token.lastEventId, retry: 5000, data: { after: token.lastEventId } })]
    },
    // Lasse's handle_info: messages of the stream's own (here its timer).
    handle (_msg, token) {
      return next(token.state, 'tick', { at: new Date().toISOString() })
    },
    // Lasse's handle_notify: what app.sse.notify sends, apart from handle.
    handleNotify (msg: Notification, token) {
      if (msg.stop === true) {
        args.finished.add(token.state.user)
        return stop(next(token.state, 'bye', 'your feed is over'))
      }
      // A raw chunk is written as it is: a string or bytes. Anything else is a bad chunk: handleError.
      if (msg.raw !== undefined) return msg.raw as string
      if (msg.text === undefined || msg.text === '') return undefined // nosend
      // An event name with a line break would forge a field: new Event throws, handleError runs.
      return next(token.state, msg.event ?? 'notify', { text: msg.text })
    },
    handleError (error, _msg, token) {
      note(args, `handleError ${token.state.user} ${(error as { code?: string }).code ?? error.message}`)
    },
    terminate (reason, token) {
      if (token.state === undefined) return undefined // init refused before it set anything
      note(args, `terminate ${token.state.user} ${reason}`)
      // Only this stream's entry: a newer stream of the same user may have taken the name.
      if (args.streams.get(token.state.user) === token.id) args.streams.delete(token.state.user)
      return new Event({ event: 'goodbye', data: reason }) // written on 'stopped' and 'shutdown' only
    }
  } satisfies ChunkedHandler<State, 'tick', FastifyRequest<{ Querystring: Query }>>
}

export async function buildLasseApp (options: { tick?: number | false, heartbeat?: number | false, banned?: string[] } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: options.heartbeat })
  const args: InitArgs = {
    banned: new Set(options.banned ?? ['mallory']),
    tick: options.tick ?? 5000,
    streams: new Map(),
    finished: new Set(),
    journal: []
  }
  app.get<{ Querystring: Query }>('/events', { chunk: true, handler: lasse(args) })
  app.post<{ Params: { user: string }, Body: Notification }>('/notify/:user', {
    schema: { body: { type: 'object', additionalProperties: false, properties: { text: { type: 'string' }, event: { type: 'string' }, raw: {}, stop: { type: 'boolean' } } } }
  }, async (request, reply) => {
    const id = args.streams.get(request.params.user)
    // notify is false when the stream is gone or on another instance.
    if (id === undefined || !app.sse.notify(id, request.body)) return reply.code(404).send({ error: 'not connected' })
    return reply.code(202).send({ delivered: true })
  })
  app.get('/journal', async () => args.journal)
  app.get('/streams', async () => [...args.streams.keys()])
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildLasseApp()
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Lasse stream at ${address}/events?user=ann  (curl -N '${address}/events?user=ann')`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
