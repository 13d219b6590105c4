import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { refuseUnknownKeys } from '../check-keys.js'
import { optionNames } from './option-names.js'
import { maxEventSizeOption, type ParsedEvent } from './parser.js'
import { isFinal, waitBefore } from './reconnect-rules.js'
import { ResumableStream } from './resumable-stream.js'

export interface ConnectOptions {
  /**
   * Sent on every request; they win over the client's own, `Last-Event-ID` included. Dropped on a
   * redirect to another origin. Default: none.
   */
  headers?: Record<string, string>
  /** Default GET. */
  method?: string
  /** Sent with every request (dropped where a redirect turns it into a GET). Default: none. */
  body?: string | Uint8Array
  /** Resume after this event: sent as `Last-Event-ID` until the stream gives an id of its own. */
  lastEventId?: string
  /** Aborting it ends the request at once; the iteration then throws the signal's reason. */
  signal?: AbortSignal
  /** The reconnection delay in ms until the server sends `retry:`, never below MIN_RETRY. Default 3000. */
  retry?: number
  /** The undici dispatcher to send requests through (a proxy, a mock). Default: undici's global one. */
  dispatcher?: Dispatcher
  /**
   * The most a line or an event's data may take, in bytes (see ParserOptions). Past it the request is
   * ended and the iteration throws a ClientEventTooLargeError. Default 16 MiB.
   */
  maxEventSize?: number
}

const CONNECT_OPTIONS = optionNames<ConnectOptions>({
  headers: true, method: true, body: true, lastEventId: true, signal: true, retry: true, dispatcher: true, maxEventSize: true
})

/**
 * The events of an event stream, as an async iterable that reconnects by itself: after the stream
 * ends or the network fails, it waits the server's `retry` (backing off, with jitter, while attempts
 * keep failing) and asks again with `Last-Event-ID`. Nothing is sent before the first `next()`.
 *
 * It ends normally on a 204. A 429 or 503 with `Retry-After` waits that long and tries again. Another
 * status throws a ClientStatusError (`SSE_ERR_CLIENT_STATUS`, with `status`); a 200 that is not
 * `text/event-stream` throws a ClientContentTypeError (`SSE_ERR_CLIENT_CONTENT_TYPE`). A line or event
 * larger than `maxEventSize` throws a ClientEventTooLargeError (`SSE_ERR_CLIENT_EVENT_TOO_LARGE`),
 * after the events before it. `break` ends the request at once.
 */
export function connect (url: string | URL, options: ConnectOptions = {}): AsyncIterable<ParsedEvent> {
  // A wrong option throws here, not at the first event.
  refuseUnknownKeys(options, CONNECT_OPTIONS, 'ConnectOptions')
  maxEventSizeOption(options.maxEventSize)
  return { [Symbol.asyncIterator]: () => reconnecting(url, options) }
}

async function * reconnecting (url: string | URL, options: ConnectOptions): AsyncGenerator<ParsedEvent, void, undefined> {
  const { dispatcher } = options
  const signal = options.signal ?? new AbortController().signal
  const stream = new ResumableStream(options)
  const request = { url, method: options.method, headers: options.headers, body: options.body }
  let failures = 0 // consecutive attempts that did not open
  while (true) {
    const connection = new AbortController()
    const abort = (): void => connection.abort(signal.reason)
    signal.addEventListener('abort', abort)
    let reason: unknown = 'end'
    let opened = false
    try {
      signal.throwIfAborted()
      const { events } = await stream.open(request, connection.signal, dispatcher)
      if (events === null) return // 204: the server says there is no more
      opened = true
      failures = 0
      yield * events
    } catch (error) {
      signal.throwIfAborted()
      reason = error
      if (!opened) failures += 1
    } finally {
      signal.removeEventListener('abort', abort)
      connection.abort()
    }
    // The rules SseClient follows too (reconnect-rules.ts): whether to ask again, and when.
    if (isFinal(reason, opened)) throw reason
    try {
      await sleep(waitBefore(reason, stream.retry, failures), undefined, { signal })
    } catch {
      throw signal.reason // rather than the timer's own AbortError, as everywhere else
    }
  }
}
