import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { formats } from './protocol/formats.js'
import type { Runtime } from './runtime.js'
import { sendAwayAnswer } from './send-away.js'

type RequestListener = (this: unknown, request: IncomingMessage, response: ServerResponse) => void

/**
 * Once `fastify.close()` starts, Fastify's router answers every new request with its own 503, before
 * any hook runs; a 503 stops EventSource for good, and `close()` keeps accepting requests for as long
 * as the streams drain. So the plugin stands in front of the router: while the app closes, a request
 * that accepts `text/event-stream` or carries a `Last-Event-ID` gets a 200 with a jittered `retry:`,
 * and the client comes back later, to this instance or another. Everything else goes to Fastify as it
 * came (a client that asks for an event stream without saying so gets Fastify's 503).
 */
export function guardEventStreamsWhileClosing (app: FastifyInstance, runtime: Runtime): void {
  const server = app.server as unknown as { listeners (event: 'request'): RequestListener[], removeListener (event: 'request', listener: RequestListener): void, on (event: 'request', listener: RequestListener): void }
  const listeners = server.listeners('request')
  if (listeners.length === 0) return // no server of ours to stand in front of (inject only)
  const fastifyClosing = fastifyClosingFlag(app)
  for (const listener of listeners) server.removeListener('request', listener)
  server.on('request', function closingGate (request, response) {
    if ((runtime.lifecycle.phase() !== 'running' || fastifyClosing()) && wantsEventStream(request)) {
      sendRetry(request, response, runtime.jitteredRetry())
      return
    }
    for (const listener of listeners) listener.call(this, request, response)
  })
}

/** EventSource (and every client of ours) asks for `text/event-stream`; a reconnect carries its last id. */
function wantsEventStream (request: IncomingMessage): boolean {
  return request.headers['last-event-id'] !== undefined || /text\/event-stream/i.test(request.headers.accept ?? '')
}

/** The SSE send-away (send-away.ts), written to the raw response: Fastify is closing. */
function sendRetry (request: IncomingMessage, response: ServerResponse, retry: number): void {
  const away = sendAwayAnswer(formats.sse, retry)
  const headers = { ...away.headers }
  // Our hooks do not run here, CORS included: a cross-origin EventSource must still read the retry.
  // The body is only a delay, so any origin may read it.
  const origin = request.headers.origin
  if (origin !== undefined) Object.assign(headers, { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' })
  if (request.httpVersionMajor === 1) headers.connection = 'close' // HTTP/2 forbids the header
  response.writeHead(away.status, headers)
  response.end(away.body)
}

/**
 * Fastify's own closing flag, set before any preClose hook runs (ours may come after another plugin's
 * slow one). It is internal to Fastify: found by its symbol's name, and if it is not there, the
 * plugin's own phase alone decides.
 */
function fastifyClosingFlag (app: FastifyInstance): () => boolean {
  for (let instance: object | null = app; instance !== null; instance = Object.getPrototypeOf(instance)) {
    const symbol = Object.getOwnPropertySymbols(instance).find((candidate) => candidate.description === 'fastify.state')
    if (symbol !== undefined) {
      const state = (app as unknown as Record<symbol, { closing?: unknown } | undefined>)[symbol]
      return () => state?.closing === true
    }
  }
  return () => false
}
