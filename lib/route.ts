import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import type { WebSocket } from 'ws'
import type { StreamOptions } from './actor/context.js'
import { SourceDriver } from './actor/source.js'
import { StreamActor } from './actor/stream-actor.js'
import type { Opening } from './actor/stream-core.js'
import { Writer, type RawReply, type StreamWriter } from './actor/writer.js'
import { checkHandler } from './check-handler.js'
import { NotWebSocketRouteError, ReplySentError } from './errors.js'
import { resolveStreamOptions } from './options.js'
import { outcomeOf, type Shutdown } from './results.js'
import { type Runtime, runtimeOf, takesNewStream } from './runtime.js'
import { sendAwayAnswer, STREAM_HEADERS } from './send-away.js'
import type { ChunkedHandler, ChunkOptions, InitResult, StreamHandler } from './types.js'
import { acceptWebSocket, overWebSocket } from './websocket/accept.js'
import { runOverEstablished } from './websocket/established.js'
import { type PendingUpgrade, upgradeOf } from './websocket/upgrade.js'
import { WebSocketWriter } from './websocket/ws-writer.js'

const kChunkedRoute = Symbol.for('fastify-sse-actors.route')

export function isChunkedRoute (handler: unknown): boolean {
  return typeof handler === 'function' && kChunkedRoute in handler
}

/** The WebSocket side of a chunked route function that also takes upgrades; undefined otherwise. */
export function webSocketHandlerOf (handler: unknown): ((ws: WebSocket, request: FastifyRequest) => Promise<void>) | undefined {
  return isChunkedRoute(handler) ? (handler as unknown as Record<symbol, ReturnType<typeof webSocketHandlerOf>>)[kChunkedRoute] : undefined
}

/**
 * A plain Fastify route function that serves `handler` as a stream: for apps whose other `onRoute`
 * hooks need a function, and for `{ chunk }` routes, whose handler the plugin swaps for this.
 */
export function chunked (handler: StreamHandler<any, any, any>, chunkOptions?: ChunkOptions): RouteHandlerMethod<any, any, any, any, any, any, any, any> {
  checkHandler(handler)
  if (chunkOptions !== undefined) resolveStreamOptions({}, chunkOptions) // a bad option fails where the route is declared
  let resolved: { runtime: Runtime, options: StreamOptions } | undefined
  // Not async: a stream whose init returns at once is served without a promise. It returns the reply,
  // a thenable Fastify follows at once when the reply is sent and until it is when an async onSend
  // hook still runs, as a wrapper that returns this function's result needs.
  const route = function chunkedRoute (request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const runtime = runtimeOf(request.server)
    if (resolved?.runtime !== runtime) {
      resolved = { runtime, options: chunkOptions === undefined ? runtime.settings.defaults : resolveStreamOptions(runtime.settings.base, chunkOptions) }
    }
    return openStream(runtime, request, reply, handler, resolved.options, undefined)
  }
  if (chunkOptions?.websocket !== true) return Object.assign(route, { [kChunkedRoute]: undefined })
  // With @fastify/websocket in the app, it upgrades and calls this with the socket.
  const wsHandler = async function chunkedWebSocket (ws: WebSocket, request: FastifyRequest): Promise<void> {
    const runtime = runtimeOf(request.server)
    return runOverEstablished(runtime, request, handler, resolveStreamOptions(runtime.settings.base, chunkOptions), ws)
  }
  return Object.assign(route, { [kChunkedRoute]: wsHandler })
}

/**
 * The headers of a stream: those set by hooks, other plugins and `init`, then ours. SSE is always
 * `text/event-stream`; ndjson and raw keep a `Content-Type` the route set (Aino's `response_header`).
 */
function streamHeaders (reply: FastifyReply, options: StreamOptions): Record<string, string | number | string[]> {
  // A fresh object from Fastify (its headers and the response's): ours are set on it, not copied.
  const headers = reply.getHeaders() as Record<string, string | number | string[]>
  if (!options.rules.ownContentType || headers['content-type'] === undefined) headers['content-type'] = options.rules.contentType
  return Object.assign(headers, STREAM_HEADERS)
}

/** The client's resume point: the Last-Event-ID header, else the `lastEventId` query parameter. */
function lastEventIdOf (request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id']
  if (typeof header === 'string') return header
  const url = request.raw.url ?? ''
  const query = url.indexOf('?')
  if (query === -1) return undefined
  return new URLSearchParams(url.slice(query + 1)).get('lastEventId') ?? undefined
}

/** Serves `handler` on this request. Settled at once (the reply, no promise) when `init` returns at once. */
export function openStream (runtime: Runtime, request: FastifyRequest, reply: FastifyReply, handler: StreamHandler, routeOptions: StreamOptions, state: unknown): FastifyReply | Promise<FastifyReply> {
  // A rejection, not a throw: Fastify logs a rejection's cause when the reply is sent already.
  if (reply.sent) return Promise.reject(new ReplySentError())
  if (request.method === 'HEAD') {
    return reply.headers(streamHeaders(reply, routeOptions)).send()
  }
  const upgrade = upgradeOf(request.raw)
  if (upgrade !== undefined && !routeOptions.websocket) return reply.code(400).send(new NotWebSocketRouteError())
  const options = upgrade === undefined ? routeOptions : overWebSocket(routeOptions)
  if (!takesNewStream(runtime)) {
    return sendAway(runtime, reply, options)
  }
  const behaviour: ChunkedHandler = typeof handler === 'function' ? new SourceDriver(handler) : handler
  const writer = upgrade === undefined ? new Writer(reply.raw as RawReply, runtime.stats) : new WebSocketWriter(runtime.stats)
  const actor = new StreamActor(request, reply, writer, behaviour, options, runtime, state, lastEventIdOf(request))
  const opening = actor.init()
  // No closure on this path: a stream whose init returns at once allocates none.
  if (!(opening instanceof Promise)) return afterInit(runtime, reply, actor, writer, upgrade, options, opening)
  return opening.then((opened) => afterInit(runtime, reply, actor, writer, upgrade, options, opened), (error: unknown) => {
    // The broker cannot be reached: come back later (a 503 would stop EventSource for good).
    if ((error as { code?: unknown })?.code === 'SSE_ERR_BROKER_UNAVAILABLE') {
      request.log.warn({ err: error }, 'the broker is unreachable: the stream is sent away with a retry')
      return sendAway(runtime, reply, options)
    }
    throw error
  })
}

function afterInit (runtime: Runtime, reply: FastifyReply, actor: StreamActor, writer: StreamWriter, upgrade: PendingUpgrade | undefined, options: StreamOptions, opening: Opening): FastifyReply {
  switch (opening.kind) {
    case 'refused':
      return refuse(reply, opening.result)
    case 'gone':
      // Shut down while init ran: told when to come back. A client that left is told nothing.
      if (opening.reason === 'shutdown') return sendAway(runtime, reply, options)
      reply.hijack()
      reply.raw.destroy()
      return reply
    case 'open':
      reply.hijack()
      if (upgrade !== undefined) acceptWebSocket(actor, writer as WebSocketWriter, upgrade, reply.request.raw, options, opening.initial)
      // The status a hook or `init` set (Aino's `response_status`), 200 by default.
      else actor.open(reply.statusCode, streamHeaders(reply, options), opening.initial)
      return reply
  }
}

function refuse (reply: FastifyReply, result: InitResult): FastifyReply {
  if (outcomeOf(result) === 'no-content') return reply.code(204).send()
  const { status, headers, body } = result as Shutdown
  if (headers !== undefined) reply.headers(headers)
  return reply.code(status).send(body)
}

/**
 * Over capacity, shutting down or without a broker: the client is told when to come back, as
 * send-away.ts says for its format. A stream that says `retry:` and ends goes through a writer of
 * its own (counted in `stats()`), with the headers hooks set (CORS); a status goes through Fastify.
 */
function sendAway (runtime: Runtime, reply: FastifyReply, options: StreamOptions): FastifyReply {
  const away = sendAwayAnswer(options.rules, runtime.jitteredRetry())
  if (away.kind === 'status') return reply.code(away.status).headers(away.headers).send()
  reply.hijack()
  const writer = new Writer(reply.raw as RawReply, runtime.stats)
  writer.open(away.status, { ...streamHeaders(reply, options), ...away.headers })
  writer.write(away.body)
  void writer.end(options.drainTimeout, 'stopped')
  return reply
}
