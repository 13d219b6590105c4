import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { PULL } from './actor/notices.js'
import { ResumableStream } from './client/resumable-stream.js'
import { maxEventSizeOption, type ParsedEvent } from './client/parser.js'
import { UpstreamError } from './errors.js'
import { Event, isFieldValue } from './protocol/event.js'
import { endStream, noContent } from './results.js'
import type { AnyRequest, ChunkedHandler } from './types.js'

export interface ForwardOptions<Request extends AnyRequest = FastifyRequest> {
  /**
   * Headers for the upstream request (credentials, say), or a function of the downstream request that
   * returns them. Default: none (the client's own `Accept`, `Cache-Control` and `Last-Event-ID` only).
   */
  headers?: Record<string, string> | ((request: Request) => Record<string, string>)
  /**
   * The most a line or an event's data from the upstream may take, in bytes. Past it the upstream
   * request is ended and so is the stream, as on any upstream failure. Default 16 MiB.
   */
  maxEventSize?: number
}

type Target<Request> = (request: Request) => string | URL | Promise<string | URL>

interface ForwardState {
  upstream: ResumableStream
  events: AsyncGenerator<ParsedEvent, void, undefined>
  /** The last id written downstream: an id is passed on only when the upstream changes it. */
  lastId: string
}

/**
 * A handler that relays an upstream event stream (seeds/004's stream-wrapper): `init` opens the
 * upstream with the downstream `Last-Event-ID` and waits for its status (204 becomes `noContent()`,
 * another status or a network failure an `SSE_ERR_UPSTREAM` 502 through Fastify that names only the
 * status or 'unreachable'; the detail is logged); upstream events and ids come down as they are.
 *
 * The upstream is pulled, one event at a time: `init` sends the actor one PULL, and handling a PULL
 * awaits the next upstream event, returns it and sends the next PULL. The actor takes a message only
 * while the socket is below `highWaterMark`, so a client that does not read stops the pulls, undici
 * stops reading the upstream socket, and TCP backpressure reaches the upstream server.
 *
 * The upstream request is aborted the moment the stream ends (`token.signal`). An upstream that ends
 * or fails once open (a network error, an event larger than `maxEventSize`) ends the stream with a
 * `retry:` ('upstream-closed'); a failure is logged with its error code.
 */
export function forward<Request extends AnyRequest = FastifyRequest> (target: Target<Request>, options: ForwardOptions<Request> = {}): ChunkedHandler<ForwardState, unknown, Request> {
  const maxEventSize = maxEventSizeOption(options.maxEventSize) // checked when the route is declared
  return {
    async init (token) {
      const url = await target(token.request)
      const headers = typeof options.headers === 'function' ? options.headers(token.request) : options.headers
      const upstream = new ResumableStream({ lastEventId: token.lastEventId, maxEventSize })
      let opened
      try {
        opened = await upstream.open({ url, headers }, token.signal)
      } catch (error) {
        // The stream ended while the upstream opened (the client left, a shutdown): nothing failed,
        // and the actor answers for the ended stream itself (a shutdown's `retry:`).
        if (token.signal.aborted) return undefined
        throw refusal(error, token.log)
      }
      if (opened.events === null) return noContent()
      token.state = { upstream, events: opened.events, lastId: upstream.lastEventId }
      token.send(PULL)
      return undefined
    },
    async handle (msg, token) {
      if (msg !== PULL) return undefined // `app.sse.notify` reaches `handle` too: only a PULL reads
      const state = token.state
      let next: IteratorResult<ParsedEvent, void>
      try {
        next = await state.events.next()
      } catch (error) {
        // An abort is the stream ending already, not worth a log line.
        if (!token.signal.aborted) token.log.warn({ err: error, code: codeOf(error) }, 'the upstream event stream failed')
        next = { done: true, value: undefined }
      }
      if (next.done === true) return endStream('upstream-closed', `retry: ${state.upstream.retry}\n\n`)
      token.send(PULL)
      return toEvent(next.value, state, token.log)
    }
  }
}

/**
 * The upstream event as written downstream. The wire allows a tab (and other controls) in an id or
 * a type that no Event may carry (its id could not travel back in a header): such an id is not
 * passed on, such an event is skipped, and both are logged.
 */
function toEvent (parsed: ParsedEvent, state: ForwardState, log: FastifyBaseLogger): Event | undefined {
  const type = parsed.type === 'message' ? undefined : parsed.type
  if (type !== undefined && !isFieldValue(type)) {
    log.warn({ type }, 'an upstream event whose type holds a control character was skipped')
    return undefined
  }
  let id = parsed.lastEventId === state.lastId ? undefined : parsed.lastEventId
  state.lastId = parsed.lastEventId
  if (id !== undefined && !isFieldValue(id)) {
    log.warn({ id }, 'an upstream id that holds a control character was not passed on')
    id = undefined
  }
  return new Event({ event: type, data: parsed.data, id })
}

/**
 * The 502 for an upstream that did not open. Its message goes to the client: only the status the
 * upstream answered, or 'unreachable', never a host, a port or a network error's text (those go to
 * the log).
 */
function refusal (error: unknown, log: FastifyBaseLogger): InstanceType<typeof UpstreamError> {
  const status = (error as { status?: unknown } | null)?.status
  const answered = typeof status === 'number'
  log.warn({ err: error, code: codeOf(error), status }, answered ? 'the upstream refused the stream' : 'the upstream is unreachable')
  return new UpstreamError(answered ? status : 'unreachable', { cause: error })
}

function codeOf (error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code
}
