import type { FastifyRequest } from 'fastify'
import { refuseUnknownKeys } from '../check-keys.js'
import { maxEventSizeOption, type ParsedEvent } from '../client/parser.js'
import { InvalidOptionError } from '../errors.js'
import type { AnyRequest, HandleResult, Token } from '../types.js'
import { type BodyValue, prepareBody, type PreparedBody } from './body.js'

type Awaitable<T> = T | Promise<T>

/** An event read from an SSE upstream, as the client's parser gives it (`type` is 'message' when unnamed). */
export type UpstreamEvent = ParsedEvent

interface CommonForwardOptions<Request extends AnyRequest> {
  /**
   * Headers for the upstream request (credentials, say), or a function of the downstream request that
   * returns them; they win over the ones forward() sets. Default: none (on an SSE upstream the
   * client's own `Accept`, `Cache-Control` and `Last-Event-ID` only).
   */
  headers?: Record<string, string> | ((request: Request) => Record<string, string>)
  /**
   * The upstream request's method, an HTTP token ('POST' for most completion APIs); the usual ones are
   * upper-cased as fetch does, CONNECT, TRACE and TRACK refused. Default 'GET'.
   */
  method?: string
  /**
   * The upstream request's body: a string (sent as `text/plain;charset=UTF-8`, as fetch does), a
   * Uint8Array (no content type), or a plain object or array (sent as JSON, `application/json`); a
   * `content-type` in `headers` wins. Or a function of the downstream request returning one of those
   * or nothing, may be async: what it throws goes through Fastify's error handler before the stream
   * opens. A value is serialized once, when forward() is called. Not with GET or HEAD. Default: none.
   */
  body?: BodyValue | ((request: Request) => Awaitable<BodyValue | undefined | null>)
  /**
   * Ms the upstream may stay silent while the stream waits for its next event (raw: its next bytes):
   * then the upstream request is ended and the stream ends ('upstream-closed', an SSE upstream's
   * `retry:` written first). Only waiting counts: a client that reads slowly never trips it. The wait
   * for the upstream's headers has its own 30 s limit. A positive integer, or Infinity. Default: none.
   */
  idleTimeout?: number
}

/** forward() options for an SSE upstream (the default). */
export interface SseForwardOptions<Request extends AnyRequest = FastifyRequest, State = any> extends CommonForwardOptions<Request> {
  /** The upstream speaks `text/event-stream`; the downstream `Last-Event-ID` goes up. Default 'sse'. */
  upstream?: 'sse'
  /**
   * The chunks to write for an upstream event: a Chunk, a Chunk[], nothing to skip it, or `stop(final?)`
   * to end the stream (an LLM's `data: [DONE]`); may be async. What it throws ends the stream through
   * `handleError` ('error'). To keep resume by `Last-Event-ID`, put `id: event.lastEventId` on the
   * Events returned. Default: the event as it came, its id passed on when the upstream changes it.
   */
  transform?: (event: UpstreamEvent, token: Token<State, unknown, Request>) => Awaitable<HandleResult>
  /**
   * The most a line or an event's data from the upstream may take, in bytes. Past it the upstream
   * request is ended and so is the stream, as on any upstream failure. Default 16 MiB.
   */
  maxEventSize?: number
}

/** forward() options for an upstream whose body is relayed as it comes (NDJSON, plain text, bytes). */
export interface RawForwardOptions<Request extends AnyRequest = FastifyRequest, State = any> extends CommonForwardOptions<Request> {
  /**
   * The upstream body is not parsed: each chunk of it, as it comes off the socket (its boundaries are
   * the network's), is one raw chunk. No `Last-Event-ID` goes up; the stream ends with no `retry:`.
   */
  upstream: 'raw'
  /** As for an SSE upstream, for each body chunk. Default: the chunk as it is. */
  transform?: (chunk: Buffer, token: Token<State, unknown, Request>) => Awaitable<HandleResult>
  /** An SSE upstream's limit: a raw upstream has no events. */
  maxEventSize?: never
}

export type ForwardOptions<Request extends AnyRequest = FastifyRequest, State = any> =
  SseForwardOptions<Request, State> | RawForwardOptions<Request, State>

/** The options as forward() runs them, checked when the route is declared. */
export interface ForwardConfig<Request extends AnyRequest> {
  method: string
  headers: CommonForwardOptions<Request>['headers']
  body: PreparedBody | ((request: Request) => Awaitable<BodyValue | undefined | null>) | undefined
  transform: ((item: any, token: Token<any, unknown, Request>) => Awaitable<HandleResult>) | undefined
  raw: boolean
  idleTimeout: number | undefined
  maxEventSize: number
}

const KEYS = ['headers', 'method', 'body', 'transform', 'upstream', 'idleTimeout', 'maxEventSize'] as const

// An HTTP method is a token (RFC 9110): a typo with a space would otherwise fail on every request.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

// fetch's normalized methods (and PATCH) are upper-cased whatever their case; the ones it forbids are refused.
const NORMALIZED = /^(DELETE|GET|HEAD|OPTIONS|POST|PUT|PATCH)$/i
const FORBIDDEN = /^(CONNECT|TRACE|TRACK)$/i

// setTimeout's largest delay; a longer one fires at once.
const MAX_TIMEOUT = 2 ** 31 - 1

export function forwardConfig<Request extends AnyRequest> (options: ForwardOptions<Request> | undefined): ForwardConfig<Request> {
  refuseUnknownKeys(options, KEYS, 'forward')
  const { headers, method = 'GET', body, transform, upstream = 'sse', idleTimeout } = options ?? {}
  if (headers !== undefined && typeof headers !== 'function') checkHeaders(headers)
  if (typeof method !== 'string' || !TOKEN.test(method) || FORBIDDEN.test(method)) refuse('method', 'an HTTP method such as \'POST\' (not CONNECT, TRACE or TRACK)', method)
  if (body !== undefined && /^(GET|HEAD)$/i.test(method)) throw new InvalidOptionError('forward.body', `a ${method} request has no body: set method (e.g. 'POST')`)
  if (transform !== undefined && typeof transform !== 'function') refuse('transform', 'a function', transform)
  if (upstream !== 'sse' && upstream !== 'raw') refuse('upstream', '\'sse\' or \'raw\'', upstream)
  if (upstream === 'raw' && options?.maxEventSize !== undefined) throw new InvalidOptionError('forward.maxEventSize', 'a raw upstream has no events: leave it out')
  return {
    method: NORMALIZED.test(method) ? method.toUpperCase() : method,
    headers,
    // BodyValue includes `object`, so typeof cannot tell a function body from a value for TypeScript.
    body: typeof body === 'function' ? body as ForwardConfig<Request>['body'] : prepareBody(body, 'forward.body'),
    transform,
    raw: upstream === 'raw',
    idleTimeout: idleTimeoutOption(idleTimeout),
    maxEventSize: maxEventSizeOption(options?.maxEventSize)
  }
}

function idleTimeoutOption (value: unknown): number | undefined {
  if (value === undefined || value === Infinity) return undefined
  if (!Number.isSafeInteger(value) || (value as number) <= 0 || (value as number) > MAX_TIMEOUT) {
    refuse('idleTimeout', `a positive integer of ms up to ${MAX_TIMEOUT}, or Infinity`, value)
  }
  return value as number
}

function checkHeaders (headers: unknown): void {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) refuse('headers', 'an object or a function', headers)
  for (const [name, value] of Object.entries(headers as object)) {
    if (typeof value !== 'string') refuse(`headers.${name}`, 'a string', value)
  }
}

function refuse (option: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : typeof value
  throw new InvalidOptionError(`forward.${option}`, `must be ${expected}, got ${got}`)
}
