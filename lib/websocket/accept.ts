import type { IncomingMessage } from 'node:http'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import type { StreamOptions } from '../actor/context.js'
import type { StreamActor } from '../actor/stream-actor.js'
import { formats } from '../protocol/formats.js'
import type { InitResult } from '../types.js'
import { ClientMessage } from './client-message.js'
import { type PendingUpgrade, releaseUpgrade } from './upgrade.js'
import type { WebSocketWriter } from './ws-writer.js'

const overWs = new WeakMap<StreamOptions, StreamOptions>()
const servers = new WeakMap<StreamOptions, WebSocketServer>()

/** A route's options for its WebSocket streams: the same, written by the WebSocket transport's rules. */
export function overWebSocket (options: StreamOptions): StreamOptions {
  let derived = overWs.get(options)
  if (derived === undefined) overWs.set(options, derived = { ...options, rules: formats.websocket })
  return derived
}

/**
 * One `ws` server per route's options, with no server of its own: the plugin does the upgrade once
 * Fastify's hooks and `init` let the stream open. A client's message is bounded by the route's
 * `highWaterMark`, so a client cannot make the server hold more than one message of that size.
 */
function serverFor (options: StreamOptions): WebSocketServer {
  let server = servers.get(options)
  if (server === undefined) servers.set(options, server = new WebSocketServer({ noServer: true, maxPayload: options.highWaterMark }))
  return server
}

function toMessage (data: RawData, isBinary: boolean): ClientMessage {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
  return new ClientMessage(isBinary ? bytes : bytes.toString('utf8'))
}

/** The client's messages go to the mailbox; an error on the socket ends it (the client is gone). */
export function listenToClient (actor: StreamActor, ws: WebSocket): void {
  ws.on('message', (data, isBinary) => actor.send(toMessage(data, isBinary)))
  ws.on('error', () => ws.terminate())
  // Through @fastify/websocket the dummy response may outlive the socket: its end is the client's.
  ws.once('close', () => actor.clientLeft())
}

/** Completes the upgrade and opens the stream over it. */
export function acceptWebSocket (actor: StreamActor, writer: WebSocketWriter, upgrade: PendingUpgrade, raw: IncomingMessage, options: StreamOptions, initial: InitResult): void {
  serverFor(options).handleUpgrade(raw, upgrade.socket, upgrade.head, (ws) => {
    releaseUpgrade(upgrade)
    writer.attach(ws)
    listenToClient(actor, ws)
    actor.open(101, {}, initial)
  })
}
