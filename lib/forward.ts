import type { FastifyRequest } from 'fastify'
import type { StreamActor } from './actor/stream-actor.js'
import { ResumableStream } from './client/resumable-stream.js'
import { maxEventSizeOption, type ParsedEvent } from './client/parser.js'
import { UpstreamError } from './errors.js'
import { Event } from './protocol/event.js'
import { noContent } from './results.js'
import type { AnyRequest, ChunkedHandler, Token } from './types.js'

export interface ForwardOptions<Request extends AnyRequest = FastifyRequest> {
  /** Headers for the upstream request (credentials, say), or a function of the downstream request. */
  headers?: Record<string, string> | ((request: Request) => Record<string, string>)
  /**
   * The most a line or an event's data from the upstream may take, in bytes. Past it the upstream
   * request is ended and so is the stream, as on any upstream failure. Default 16 MiB.
   */
  maxEventSize?: number
}

type Target<Request> = (request: Request) => string | URL | Promise<string | URL>

/** The upstream ended or failed: the stream ends with a `retry:`, so the client comes back. */
const UPSTREAM_CLOSED = Symbol('fastify-sse-actors.upstream-closed')

interface ForwardState {
  upstream: ResumableStream
  /** The last id written downstream: an id is passed on only when the upstream changes it. */
  lastId: string
}

/**
 * A handler that relays an upstream event stream (seeds/004's stream-wrapper): `init` opens the
 * upstream with the downstream `Last-Event-ID` and waits for its status (204 becomes `noContent()`,
 * another failure an `SSE_ERR_UPSTREAM` through Fastify); upstream events and ids come down as they
 * are; the upstream request is aborted the moment the downstream client goes away (`token.signal`).
 * An upstream that fails once open (a network error, an event larger than `maxEventSize`) is logged
 * with its error code, and the stream ends with a `retry:` ('upstream-closed').
 */
export function forward<Request extends AnyRequest = FastifyRequest> (target: Target<Request>, options: ForwardOptions<Request> = {}): ChunkedHandler<ForwardState, ParsedEvent | typeof UPSTREAM_CLOSED, Request> {
  const maxEventSize = maxEventSizeOption(options.maxEventSize) // checked when the route is declared
  return {
    async init (token) {
      const url = await target(token.request)
      const headers = typeof options.headers === 'function' ? options.headers(token.request) : options.headers
      const upstream = new ResumableStream({ lastEventId: token.lastEventId, maxEventSize })
      token.state = { upstream, lastId: upstream.lastEventId }
      let opened
      try {
        opened = await upstream.open({ url, headers }, token.signal)
      } catch (error) {
        throw new UpstreamError((error as { status?: number }).status ?? (error as Error).message, { cause: error })
      }
      if (opened.events === null) return noContent()
      void pump(opened.events, token)
      return undefined
    },
    handle (msg, token) {
      if (msg === UPSTREAM_CLOSED) {
        ;(token as unknown as StreamActor).endWith('upstream-closed', `retry: ${token.state.upstream.retry}\n\n`)
        return undefined
      }
      const id = msg.lastEventId === token.state.lastId ? undefined : msg.lastEventId
      token.state.lastId = msg.lastEventId
      return new Event({ event: msg.type === 'message' ? undefined : msg.type, data: msg.data, id })
    }
  }
}

async function pump (events: AsyncGenerator<ParsedEvent, void, undefined>, token: Token<ForwardState, ParsedEvent | typeof UPSTREAM_CLOSED>): Promise<void> {
  try {
    for await (const event of events) token.send(event)
  } catch (error) {
    // The stream ends either way; an abort is the stream ending already, not worth a log line.
    if (!token.signal.aborted) token.log.warn({ err: error, code: (error as { code?: unknown }).code }, 'the upstream event stream failed')
  }
  token.send(UPSTREAM_CLOSED)
}
