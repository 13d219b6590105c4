import { getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici'
import { DEFAULT_RETRY, parseRetryAfter } from './backoff.js'
import { ClientContentTypeError, ClientStatusError } from './errors.js'
import { createParser, maxEventSizeOption, type ParsedEvent } from './parser.js'

/** One request for an event stream. */
export interface StreamRequest {
  url: string | URL
  /** Default GET. */
  method?: string
  /** Sent as they are; they win over the client's own (`Accept`, `Cache-Control`, `Last-Event-ID`). */
  headers?: Record<string, string>
  body?: string | Uint8Array
}

/** The status and headers of a response that opened a stream (200) or said there is none (204). */
export interface StreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
}

export interface OpenedStream {
  response: StreamResponse
  /** The events of a 200, read as they are iterated; null for a 204. */
  events: AsyncGenerator<ParsedEvent, void, undefined> | null
}

// Long enough for a slow server to open a stream, short enough not to hang on a dead one. There is
// no body timeout: a quiet stream is a normal stream.
const HEADERS_TIMEOUT = 30_000

// Redirects are followed, as EventSource and fetch do (fetch's limit); undici's request alone does not.
const MAX_REDIRECTIONS = 20
const redirecting = new WeakMap<Dispatcher, Dispatcher>()

function following (dispatcher: Dispatcher): Dispatcher {
  let composed = redirecting.get(dispatcher)
  if (composed === undefined) {
    composed = dispatcher.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }))
    redirecting.set(dispatcher, composed)
  }
  return composed
}

export interface ResumableStreamOptions {
  /** The first `Last-Event-ID`. */
  lastEventId?: string
  /** The reconnection delay in ms until the server sends `retry:`. Default 3000. */
  retry?: number
  /** See ParserOptions: past it, the events throw a ClientEventTooLargeError. Default 16 MiB. */
  maxEventSize?: number
}

/**
 * What an event source keeps across its connections: the id of the last event it delivered (sent as
 * `Last-Event-ID`) and the reconnection delay the server asked for with `retry:`. `open` makes one
 * connection; connect() and SseClient decide when to make the next one.
 */
export class ResumableStream {
  lastEventId: string
  retry: number
  readonly maxEventSize: number

  constructor (options: ResumableStreamOptions = {}) {
    this.lastEventId = options.lastEventId ?? ''
    this.retry = options.retry ?? DEFAULT_RETRY
    this.maxEventSize = maxEventSizeOption(options.maxEventSize)
  }

  /**
   * Sends the request; resolves once the response headers are in. Rejects with a ClientStatusError
   * for a status other than 200 and 204 (with `retryAfter` for a 429 or 503 that gave a valid
   * `Retry-After`), a ClientContentTypeError, or the network error. Aborting `signal` ends the request
   * and the reading of its events at once. The events throw the error that cut the body, or a
   * ClientEventTooLargeError, after the events parsed before it; either way the request is ended.
   */
  async open (stream: StreamRequest, signal: AbortSignal, dispatcher?: Dispatcher): Promise<OpenedStream> {
    const { statusCode: status, headers, body } = await request(stream.url, {
      method: (stream.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: this.headers(stream.headers),
      body: stream.body,
      signal,
      dispatcher: following(dispatcher ?? getGlobalDispatcher()),
      headersTimeout: HEADERS_TIMEOUT,
      bodyTimeout: 0
    })
    const response = { status, headers }
    if (status === 200 && isEventStream(headers['content-type'])) return { response, events: this.read(body) }
    body.destroy()
    if (status === 204) return { response, events: null }
    if (status !== 200) {
      const retryAfter = status === 429 || status === 503 ? parseRetryAfter(headers['retry-after']) : undefined
      throw new ClientStatusError(status, retryAfter)
    }
    throw new ClientContentTypeError(status, String(headers['content-type'] ?? ''))
  }

  private headers (custom: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' }
    // A header value is bytes: the id goes as UTF-8, as the standard says.
    if (this.lastEventId !== '') headers['last-event-id'] = Buffer.from(this.lastEventId).toString('latin1')
    for (const name of Object.keys(custom)) headers[name.toLowerCase()] = custom[name]
    return headers
  }

  // Events as the consumer takes them. `lastEventId` follows what was delivered, not what was parsed:
  // a consumer that stops in the middle of a chunk resumes after the last event it saw.
  private async * read (body: AsyncIterable<Buffer> & { destroy: () => void }): AsyncGenerator<ParsedEvent, void, undefined> {
    const parsed: ParsedEvent[] = []
    const parser = createParser({
      lastEventId: this.lastEventId,
      maxEventSize: this.maxEventSize,
      onEvent: (event) => parsed.push(event),
      onRetry: (ms) => { this.retry = ms }
    })
    try {
      for await (const chunk of body) {
        try {
          parser.feed(chunk)
        } finally {
          // Also when feed threw (an event too large): the events before it are delivered first.
          for (const event of parsed) {
            this.lastEventId = event.lastEventId
            yield event
          }
          parsed.length = 0
          this.lastEventId = parser.lastEventId // an id-only block after the last event counts too
        }
      }
    } finally {
      body.destroy() // ends the request: on an error, the server sees the connection closed
    }
  }
}

// The MIME type's essence, whatever the case and parameters (`text/event-stream; charset=utf-8`).
function isEventStream (contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && /^\s*text\/event-stream\s*(;|$)/i.test(contentType)
}
