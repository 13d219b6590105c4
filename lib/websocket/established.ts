import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { WebSocket } from 'ws'
import type { StreamOptions } from '../actor/context.js'
import { SourceDriver } from '../actor/source.js'
import { StreamActor } from '../actor/stream-actor.js'
import { outcomeOf, type Shutdown } from '../results.js'
import { type Runtime, takesNewStream } from '../runtime.js'
import { WEBSOCKET_SEND_AWAY } from '../send-away.js'
import type { ChunkedHandler, StreamHandler } from '../types.js'
import { listenToClient, overWebSocket } from './accept.js'
import { WebSocketWriter } from './ws-writer.js'

const kReply = Symbol('fastify-sse-actors.reply')

/** 4000 + the HTTP status a refusal would have had (4000-4999 are the application's codes). */
function refusalCode (status: number): number {
  return status >= 100 && status < 1000 ? 4000 + status : 4500
}

/**
 * For an app that has @fastify/websocket: it routes upgrades itself (Fastify's hooks run before,
 * and refuse with a status as usual) and hands a route's `wsHandler` a socket already upgraded. So
 * here `init` runs after the upgrade: what it refuses closes the socket with a code (1000 for
 * `noContent()`, 4000 + the status otherwise, 1013 while the server is full or closing).
 */
export async function runOverEstablished (runtime: Runtime, request: FastifyRequest, handler: StreamHandler, routeOptions: StreamOptions, ws: WebSocket): Promise<void> {
  if (!takesNewStream(runtime)) {
    ws.close(WEBSOCKET_SEND_AWAY.code, WEBSOCKET_SEND_AWAY.reason)
    return
  }
  const reply = (request as unknown as Record<symbol, FastifyReply>)[kReply]
  const writer = new WebSocketWriter(runtime.stats)
  writer.attach(ws)
  const behaviour: ChunkedHandler = typeof handler === 'function' ? new SourceDriver(handler) : handler
  const query = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('lastEventId') ?? undefined
  const actor = new StreamActor(request, reply, writer, behaviour, overWebSocket(routeOptions), runtime, undefined, request.headers['last-event-id'] as string | undefined ?? query)
  listenToClient(actor, ws)
  let opening
  try {
    opening = await actor.init()
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode
    if ((error as { code?: unknown }).code !== 'SSE_ERR_BROKER_UNAVAILABLE') request.log.error({ err: error }, 'init refused the WebSocket stream')
    ws.close(typeof status === 'number' ? refusalCode(status) : 1011)
    return
  }
  if (opening.kind === 'refused') ws.close(outcomeOf(opening.result) === 'no-content' ? 1000 : refusalCode((opening.result as Shutdown).status))
  else if (opening.kind === 'gone') ws.close(opening.reason === 'shutdown' ? 1001 : 1000)
  else actor.open(101, {}, opening.initial)
}

/** Declares the route's WebSocket side for @fastify/websocket, and keeps the reply for the token. */
export function declareWsHandler (route: RouteOptions & { wsHandler?: unknown }, wsHandler: (ws: WebSocket, request: FastifyRequest) => Promise<void>): void {
  route.wsHandler = wsHandler
  const keepReply = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    (request as unknown as Record<symbol, FastifyReply>)[kReply] = reply
    done()
  }
  route.preHandler = [...(route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler]), keepReply]
}
