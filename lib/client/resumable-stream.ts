import type { Dispatcher } from 'undici'
import { DEFAULT_RETRY } from './backoff.js'
import { createParser, maxEventSizeOption, type ParsedEvent } from './parser.js'
import { answerOf } from './reconnect-rules.js'
import { discard, requestFollowing } from './redirect.js'

/** One request for an event stream. */
export interface StreamRequest {
  /** An http(s) URL. */
  url: string | URL
  /** Default GET. */
  method?: string
  /**
   * Sent as they are; they win over the client's own (`Accept`, `Cache-Control`, `Last-Event-ID`).
   * None of them, nor `Last-Event-ID`, follows a redirect to another origin.
   */
  headers?: Record<string, string>
  /** Sent with the request (dropped where a redirect turns it into a GET). Default: none. */
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

// Long enough for a slow server to open a stream, short enough not to hang on a dead one.
const HEADERS_TIMEOUT = 30_000

// What every request asks for, also after a cross-origin redirect.
const OWN_HEADERS: Readonly<Record<string, string>> = { accept: 'text/event-stream', 'cache-control': 'no-cache' }

// The bytes a header value cannot hold (RFC 9110): the C0 controls but tab, and DEL.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const NOT_IN_HEADER = /[\x00-\x08\x0a-\x1f\x7f]/

export interface ResumableStreamOptions {
  /** The first `Last-Event-ID`. */
  lastEventId?: string
  /** The reconnection delay in ms until the server sends `retry:`. Default 3000. */
  retry?: number
  /** See ParserOptions: past it, the events throw a ClientEventTooLargeError. Default 16 MiB. */
  maxEventSize?: number
  /** Called for every piece of the body, comments and heartbeats included: the server is alive. Default none. */
  onChunk?: () => void
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
  readonly #onChunk: (() => void) | undefined

  constructor (options: ResumableStreamOptions = {}) {
    this.lastEventId = options.lastEventId ?? ''
    this.retry = options.retry ?? DEFAULT_RETRY
    this.maxEventSize = maxEventSizeOption(options.maxEventSize)
    this.#onChunk = options.onChunk
  }

  /**
   * Sends the request, following redirects as fetch does (see requestFollowing); resolves once the
   * headers of the last response are in. Rejects with a ClientRedirectError, the failure the status
   * is (answerOf in reconnect-rules.ts: a ClientStatusError, with `retryAfter` for a 429 or 503 that
   * gave a valid `Retry-After`, or a ClientContentTypeError), or the network error. Aborting `signal` ends the request
   * and the reading of its events at once. The events throw the error that cut the body, or a
   * ClientEventTooLargeError, after the events parsed before it; either way the request is ended.
   */
  async open (stream: StreamRequest, signal: AbortSignal, dispatcher?: Dispatcher): Promise<OpenedStream> {
    const { statusCode: status, headers, body } = await requestFollowing(
      { url: new URL(stream.url), method: stream.method ?? 'GET', headers: this.headers(stream.headers), body: stream.body },
      { crossOriginHeaders: OWN_HEADERS, signal, dispatcher, headersTimeout: HEADERS_TIMEOUT }
    )
    const response = { status, headers }
    const answer = answerOf(status, headers)
    if (answer === 'stream') return { response, events: this.read(body) }
    discard(body)
    if (answer === 'end') return { response, events: null }
    throw answer
  }

  private headers (custom: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...OWN_HEADERS }
    // A header value is bytes: the id goes as UTF-8, as the standard says. An id that no header can
    // carry (undici would refuse the request) is as good as unknown: the server starts afresh.
    const id = Buffer.from(this.lastEventId).toString('latin1')
    if (id !== '' && !NOT_IN_HEADER.test(id)) headers['last-event-id'] = id
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
        this.#onChunk?.()
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
