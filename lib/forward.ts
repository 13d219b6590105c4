import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { PULL } from './actor/notices.js'
import { InvalidOptionError, UpstreamError } from './errors.js'
import { bodyFor } from './forward/body.js'
import { IdleWatch } from './forward/idle.js'
import { type ForwardConfig, forwardConfig, type ForwardOptions, type RawForwardOptions, type SseForwardOptions, type UpstreamEvent } from './forward/options.js'
import { openEvents, openRaw, requestHeaders, type Upstream } from './forward/upstream.js'
import { Event, isFieldValue } from './protocol/event.js'
import { endStream, noContent, outcomeOf } from './results.js'
import type { AnyRequest, ChunkedHandler, HandleResult, Token } from './types.js'

export type { ForwardOptions, RawForwardOptions, SseForwardOptions, UpstreamEvent } from './forward/options.js'

type Target<Request> = (request: Request) => string | URL | Promise<string | URL>

/** One stream's upstream. Kept off `token.state`, which stays the handler's own (a transform's). */
interface Relay {
  upstream: Upstream
  /** The last id written downstream by the default transform: passed on only when the upstream changes it. */
  lastId: string
  idle: IdleWatch | undefined
}

/**
 * A handler that relays an upstream stream (seeds/004's stream-wrapper): `init` sends the request
 * (`method`, `headers`, `body`; on SSE the downstream `Last-Event-ID`) and waits for its status (204
 * becomes `noContent()`, another status or a network failure an `SSE_ERR_UPSTREAM` 502 through Fastify
 * that names only the status or 'unreachable'; the detail is logged); each upstream event (raw: body
 * chunk) goes through `transform`, by default written as it came.
 *
 * The upstream is pulled, one item at a time: `init` sends the actor one PULL, and handling a PULL
 * awaits the next item, writes what `transform` makes of it and sends the next PULL. The actor takes a
 * message only while the socket is below `highWaterMark`, so a client that does not read stops the
 * pulls, undici stops reading the upstream socket, and TCP backpressure reaches the upstream server.
 *
 * The upstream request is aborted the moment the stream ends (`token.signal`). An upstream that ends,
 * fails once open (a network error, an event larger than `maxEventSize`) or stays silent past
 * `idleTimeout` ends the stream ('upstream-closed'), an SSE upstream's `retry:` written last; a
 * failure is logged with its error code.
 */
// Overloads, not the union alone: TypeScript types `transform`'s argument from `upstream` only so.
export function forward<Request extends AnyRequest = FastifyRequest, State = any> (target: Target<Request>, options: RawForwardOptions<Request, State>): ChunkedHandler<State, unknown, Request>
export function forward<Request extends AnyRequest = FastifyRequest, State = any> (target: Target<Request>, options?: SseForwardOptions<Request, State>): ChunkedHandler<State, unknown, Request>
export function forward<Request extends AnyRequest = FastifyRequest, State = any> (target: Target<Request>, options?: ForwardOptions<Request, State>): ChunkedHandler<State, unknown, Request>
export function forward<Request extends AnyRequest = FastifyRequest, State = any> (target: Target<Request>, options?: ForwardOptions<Request, State>): ChunkedHandler<State, unknown, Request> {
  if (typeof target !== 'function') throw new InvalidOptionError('forward.target', 'must be a function of the request returning the upstream URL')
  const config = forwardConfig(options) // checked when the route is declared
  const relays = new WeakMap<object, Relay>()
  return {
    async init (token) {
      const url = await target(token.request)
      const body = await bodyFor(config.body, token.request)
      const headers = requestHeaders(body?.contentType, typeof config.headers === 'function' ? config.headers(token.request) : config.headers)
      const request = { url, method: config.method, headers, body: body?.payload }
      const { signal, idle } = watch(token, config)
      let upstream
      try {
        upstream = config.raw
          ? await openRaw(request, signal)
          : await openEvents(request, token.lastEventId, config.maxEventSize, signal, idle === undefined ? undefined : () => idle.alive())
      } catch (error) {
        // The stream ended while the upstream opened (the client left, a shutdown): nothing failed,
        // and the actor answers for the ended stream itself (a shutdown's `retry:`).
        if (token.signal.aborted) return undefined
        throw refusal(error, token.log)
      }
      if (upstream === null) return noContent()
      relays.set(token, { upstream, lastId: token.lastEventId ?? '', idle })
      token.send(PULL)
      return undefined
    },
    async handle (msg, token) {
      if (msg !== PULL) return undefined // `app.sse.notify` reaches `handle` too: only a PULL reads
      const relay = relays.get(token)!
      const item = await pull(relay, token, config)
      if (item === undefined) {
        const retry = relay.upstream.retry()
        // An Event, not a `retry:` string: it is encoded for the stream's format (nothing off SSE).
        return endStream('upstream-closed', retry === undefined ? undefined : new Event({ comment: '', retry }))
      }
      const result: HandleResult = config.transform !== undefined
        ? await config.transform(item, token)
        : config.raw ? item as Buffer : toEvent(item as UpstreamEvent, relay, token.log)
      if (outcomeOf(result) !== 'stop') token.send(PULL)
      return result
    }
  }
}

/**
 * The signal the upstream request follows: the stream's own, or with `idleTimeout` one that also
 * aborts when the upstream stays silent. Both are released when the stream ends.
 */
function watch (token: Token<any, any, any>, config: ForwardConfig<any>): { signal: AbortSignal, idle: IdleWatch | undefined } {
  if (config.idleTimeout === undefined) return { signal: token.signal, idle: undefined }
  const controller = new AbortController()
  const idle = new IdleWatch(config.idleTimeout, () => { controller.abort() })
  const end = (): void => {
    idle.clear()
    controller.abort()
  }
  if (token.signal.aborted) end()
  else token.signal.addEventListener('abort', end, { once: true })
  return { signal: controller.signal, idle }
}

/** The next upstream item, or undefined once the upstream ended, failed or stayed silent too long. */
async function pull (relay: Relay, token: Token<any, any, any>, config: ForwardConfig<any>): Promise<UpstreamEvent | Buffer | undefined> {
  relay.idle?.waiting()
  try {
    const next = await relay.upstream.items.next()
    return next.done === true ? undefined : next.value as UpstreamEvent | Buffer
  } catch (error) {
    // An abort is the stream ending already, not worth a log line.
    if (token.signal.aborted) return undefined
    if (relay.idle?.fired === true) token.log.info({ idleTimeout: config.idleTimeout }, 'the upstream stayed silent past idleTimeout: the stream ends')
    else token.log.warn({ err: error, code: codeOf(error) }, 'the upstream event stream failed')
    return undefined
  } finally {
    relay.idle?.heard()
  }
}

/**
 * The upstream event as written downstream. The wire allows a tab (and other controls) in an id or
 * a type that no Event may carry (its id could not travel back in a header): such an id is not
 * passed on, such an event is skipped, and both are logged.
 */
function toEvent (parsed: UpstreamEvent, relay: Relay, log: FastifyBaseLogger): Event | undefined {
  const type = parsed.type === 'message' ? undefined : parsed.type
  if (type !== undefined && !isFieldValue(type)) {
    log.warn({ type }, 'an upstream event whose type holds a control character was skipped')
    return undefined
  }
  let id = parsed.lastEventId === relay.lastId ? undefined : parsed.lastEventId
  relay.lastId = parsed.lastEventId
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
