// Seed 003, ServerSentEvent.Client's AutoConnect, as an SseClient handler under a restart policy.
// The seed's callbacks, and ours:
//   init(state) -> {:connect, request(state), state}          init: { connect: request(state) }
//   handle_connect -> {:noreply, state}                        handleConnect: nothing
//   handle_connect_failure -> sleep 1 s, {:connect, ...}       { connect: { ...request(state), delay: 1000 } }
//   handle_disconnect -> {:connect, ...} at once               { connect: { ...request(state), delay: 0 } }
//   handle_event -> %{state | last_event_id: event.id}         handleEvent returns the new state
//   handle_info(:stop) -> {:stop, :normal, state}              client.send('stop') -> { stop: 'normal' }
//   a child in a supervision tree                              SseClient.start(..., { restart: 'transient', ... })
//
//   npx tsx example/auto-connect.ts                 against a local server that drops (below)
//   SSE_URL=http://127.0.0.1:3000/ping npx tsx example/auto-connect.ts   against another stream
import Fastify, { type FastifyInstance } from 'fastify'
import { type ChunkedHandler, Event, noContent, shutdown, ssePlugin, stop } from '../lib/index.js'
import { type ConnectRequest, type ParsedEvent, SseClient, type SseClientHandler } from '../lib/client/index.js'

/** The seed's state: where to connect and the id to resume after. */
export interface AutoConnectState { url: string, lastEventId: string }

export interface AutoConnectOptions {
  /** Gets each event's parsed data (the seed's IO.puts). */
  onEvent: (data: unknown, event: ParsedEvent) => void
  /** The wait after a failed connection (the seed's Process.sleep(1_000)). */
  failureDelay?: number
  /**
   * Survives restarts: a restarted client starts from the state given to `start`, as an Elixir
   * child does, so progress it must keep lives outside it (Elixir: an Agent or an ETS table).
   */
  checkpoint?: { lastEventId?: string }
}

/** A helpful pattern, not a callback: the request, with the id to resume after. */
function request (state: AutoConnectState): ConnectRequest {
  return { url: state.url, headers: { accept: 'text/event-stream', 'last-event-id': state.lastEventId } }
}

export function autoConnect ({ onEvent, failureDelay = 1000, checkpoint = {} }: AutoConnectOptions): SseClientHandler<AutoConnectState, 'stop'> {
  return {
    init (state) {
      const resumed = { ...state, lastEventId: checkpoint.lastEventId ?? state.lastEventId }
      return { connect: request(resumed), state: resumed }
    },
    handleConnect () {},
    handleConnectFailure (_reason, state) {
      return { connect: { ...request(state), delay: failureDelay } }
    },
    handleDisconnect (_reason, state) {
      return { connect: { ...request(state), delay: 0 } }
    },
    handleEvent (event, state) {
      // Kept before the data is read: an event that crashes the client is not asked for again.
      checkpoint.lastEventId = event.lastEventId
      onEvent(JSON.parse(event.data), event) // malformed data throws: the supervisor restarts us
      return { ...state, lastEventId: event.lastEventId }
    },
    handleInfo (msg) {
      if (msg === 'stop') return { stop: 'normal' }
      return undefined
    }
  }
}

/** Starts AutoConnect as a supervised child: a crash restarts it from init, three times in a minute at most. */
export function startAutoConnect (url: string, options: AutoConnectOptions): SseClient<AutoConnectState, 'stop'> {
  return SseClient.start(autoConnect(options), { url, lastEventId: '0' }, { restart: 'transient', maxRestarts: 3, restartWindow: 60_000 })
}

export interface FlakyOptions {
  /** ms between events. */
  interval?: number
  /** Each connection is dropped after this many events. */
  dropEvery?: number
  /** The event whose data is not JSON. */
  poison?: number
  /** After this event the stream is over: 204. */
  total?: number
}

/**
 * A server that makes a client work: it refuses the first request (503), drops every connection
 * after a few events, sends one malformed event, and says 204 when it has nothing more.
 */
export async function buildFlakyServer ({ interval = 500, dropEvery = 3, poison = 5, total = 8 }: FlakyOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: false })
  const seen: Array<string | undefined> = []
  app.get('/events', {
    chunk: true,
    handler: {
      init (token) {
        seen.push(token.lastEventId)
        if (seen.length === 1) return shutdown(503, { body: 'warming up' })
        const n = Number(token.lastEventId ?? 0) || 0
        if (n >= total) return noContent()
        token.state = { n, sent: 0 }
        token.every(interval, 'tick')
        return undefined
      },
      handle (_msg, token) {
        const n = ++token.state.n
        const event = new Event({ id: String(n), data: n === poison ? 'not json' : JSON.stringify({ n }) })
        return ++token.state.sent === dropEvery || n === total ? stop(event) : event
      }
    } satisfies ChunkedHandler<{ n: number, sent: number }, 'tick'>
  })
  // The Last-Event-ID of each request, for whoever watches the client work.
  app.get('/requests', async () => seen.map((id) => id ?? null))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let url = process.env.SSE_URL
  if (url === undefined) {
    const server = await buildFlakyServer()
    url = `${await server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })}/events`
    console.log(`A flaky server at ${url}`)
  }
  const client = startAutoConnect(url, { onEvent: (data, event) => console.log(`I just got a new event: ${event.lastEventId} ${JSON.stringify(data)}`) })
  process.once('SIGINT', () => client.send('stop'))
  try {
    const { reason } = await client.closed
    console.log(`The client stopped: ${String(reason)}, after ${client.restarts} restart(s)`)
    process.exit(0)
  } catch (error) {
    console.error(`The client gave up after ${client.restarts} restart(s):`, error)
    process.exit(1)
  }
}
