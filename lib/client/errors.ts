import createError from '@fastify/error'

// The client's errors, apart from the server's (lib/errors.ts): the client is its own entry point.
// `statusCode` is what a Fastify route that lets one through answers (a bad gateway); `status` is what
// the event stream answered.

const StatusError = createError<[status: number]>(
  'SSE_ERR_CLIENT_STATUS', 'The event stream answered with status %s', 502)

export class ClientStatusError extends StatusError {
  /** The status the event stream answered with. */
  readonly status: number
  /**
   * For a 429 or 503 with a valid `Retry-After`: how long the client waits before trying again, in
   * ms, the server's value within MIN_RETRY and MAX_RETRY_AFTER.
   */
  readonly retryAfter: number | undefined

  constructor (status: number, retryAfter?: number) {
    super(status)
    this.status = status
    this.retryAfter = retryAfter
  }
}

const ContentTypeError = createError<[contentType: string]>(
  'SSE_ERR_CLIENT_CONTENT_TYPE', 'The event stream answered with content type "%s", not text/event-stream', 502)

export class ClientContentTypeError extends ContentTypeError {
  readonly status: number
  readonly contentType: string

  constructor (status: number, contentType: string) {
    super(contentType)
    this.status = status
    this.contentType = contentType
  }
}

const EventTooLargeError = createError<[limit: number]>(
  'SSE_ERR_CLIENT_EVENT_TOO_LARGE', 'The event stream sent a line or an event larger than %s bytes', 502)

/**
 * A line or an event's data grew past `maxEventSize`: the server is broken (or hostile), and would
 * send the same again, so the connection fails for good.
 */
export class ClientEventTooLargeError extends EventTooLargeError {
  /** The `maxEventSize` that was exceeded. */
  readonly limit: number

  constructor (limit: number) {
    super(limit)
    this.limit = limit
  }
}

const RedirectError = createError<[reason: string]>(
  'SSE_ERR_CLIENT_REDIRECT', 'The event stream\'s redirect cannot be followed: %s', 502)

/**
 * A redirect that cannot be followed: more than `MAX_REDIRECTS` in a row (a loop), or a `Location`
 * that is not an http(s) URL. The server would answer the same again: the connection fails for good.
 */
export class ClientRedirectError extends RedirectError {
  /** The status of the redirect that was not followed. */
  readonly status: number

  constructor (status: number, reason: string) {
    super(reason)
    this.status = status
  }
}

const RestartLimitError = createError<[maxRestarts: number, restartWindow: number]>(
  'SSE_ERR_CLIENT_RESTART_LIMIT', 'The client stopped more than %s times in %s ms: it is not restarted again', 500)

/**
 * A `'permanent'` client that stopped normally (a stop its handler returned, or a 204) once more than
 * `maxRestarts` times within `restartWindow`: its supervision gave up. (One that kept throwing rejects
 * with the last error itself.)
 */
export class ClientRestartLimitError extends RestartLimitError {
  /** What the last stop said: the `stop` value, or `'no-content'`. */
  readonly reason: unknown

  constructor (maxRestarts: number, restartWindow: number, reason: unknown) {
    super(maxRestarts, restartWindow)
    this.reason = reason
  }
}

/** A client option with a value it cannot work with: thrown when the option is given. */
export const ClientInvalidOptionError = createError<[option: string, reason: string]>(
  'SSE_ERR_CLIENT_INVALID_OPTION', 'Invalid option "%s": %s', 500, TypeError)
