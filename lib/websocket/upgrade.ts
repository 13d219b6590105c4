import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'

/** The socket of an upgrade request, kept on the raw request while Fastify routes it. */
export interface PendingUpgrade {
  readonly socket: Duplex
  readonly head: Buffer
}

const kUpgrade = Symbol('fastify-sse-actors.upgrade')
const kListening = Symbol('fastify-sse-actors.upgrades')

export function upgradeOf (raw: IncomingMessage): PendingUpgrade | undefined {
  return (raw as unknown as Record<symbol, PendingUpgrade | undefined>)[kUpgrade]
}

function destroySocket (this: Duplex): void {
  this.destroy()
}

/**
 * Sends WebSocket upgrades through Fastify, hooks and all, with a response bound to the socket: a
 * hook that refuses (a 401) answers over HTTP as usual, and a chunked route with `websocket: true`
 * takes the socket. Installed once per server, when the first such route is declared. When the
 * server has another 'upgrade' listener (@fastify/websocket, an app's own `ws`), that one routes
 * upgrades and this one stands aside.
 */
export function routeUpgrades (app: FastifyInstance): void {
  const server = app.server as typeof app.server & Record<symbol, boolean>
  if (server[kListening] === true) return
  server[kListening] = true
  server.on('upgrade', function onUpgrade (raw: IncomingMessage, socket: Duplex, head: Buffer) {
    if (server.listenerCount('upgrade') > 1) return
    // Node removes its own error listener before 'upgrade': keep the socket guarded while routing.
    socket.on('error', destroySocket)
    ;(raw as unknown as Record<symbol, PendingUpgrade>)[kUpgrade] = { socket, head }
    const response = new ServerResponse(raw)
    response.assignSocket(socket as never)
    // A route that answered over HTTP (a refusal, a route without websocket): the connection ends.
    response.once('finish', () => socket.destroy())
    app.routing(raw, response)
  })
}

/** The socket is the WebSocket's now: it guards its own errors. */
export function releaseUpgrade (upgrade: PendingUpgrade): void {
  upgrade.socket.removeListener('error', destroySocket)
}
