// The client's reconnect rules, in one place: what a response says (a stream, the end, come back
// later, or never), when a connection that ended is tried again, and how long the client waits
// first. connect() and SseClient's machine both ask these; the arithmetic of the waits (the floor,
// the caps, the backoff's jitter) is backoff.ts's.

import { parseRetryAfter, reconnectDelay } from './backoff.js'
import { ClientContentTypeError, ClientEventTooLargeError, ClientRedirectError, ClientStatusError } from './errors.js'

/** The statuses whose `Retry-After` is obeyed: the server sheds load and says when to come back. */
const COME_BACK_LATER: ReadonlySet<number> = new Set([429, 503])

/**
 * What a response means for the client: `'stream'` its events follow, `'end'` a 204, or the error
 * that the attempt failed with.
 */
export type Answer = 'stream' | 'end' | ClientStatusError | ClientContentTypeError

/**
 * What a response's status says. A 200 `text/event-stream` is a stream; a 204 is the end (the server
 * has no more: the client ends normally and never asks again). Anything else is a failed attempt: a
 * ClientStatusError, with `retryAfter` for a 429 or 503 that said when to come back (tried again
 * then), else final; a 200 of another type is a ClientContentTypeError (final, see `isFinal`).
 */
export function answerOf (status: number, headers: Record<string, string | string[] | undefined>): Answer {
  if (status === 200 && isEventStream(headers['content-type'])) return 'stream'
  if (status === 204) return 'end'
  if (status !== 200) return new ClientStatusError(status, COME_BACK_LATER.has(status) ? parseRetryAfter(headers['retry-after']) : undefined)
  return new ClientContentTypeError(status, String(headers['content-type'] ?? ''))
}

/**
 * Whether a connection that ended with `reason` is not tried again, the error given to the caller
 * instead. After a stream that `opened`: only an event too large (the server would send the same
 * again). After an attempt that did not open: what the server would answer again (isPermanent).
 */
export function isFinal (reason: unknown, opened: boolean): boolean {
  return opened ? reason instanceof ClientEventTooLargeError : isPermanent(reason)
}

/**
 * How long to wait before the next attempt (never less than MIN_RETRY): a 429's or 503's
 * `Retry-After` (capped at MAX_RETRY_AFTER) when it gave one; else the stream's `retry` (the option,
 * then the server's last `retry:`) after a stream that opened (`failures` 0), backing off with
 * jitter after `failures` consecutive attempts that did not open (this one counted; a stream that
 * opens resets the count).
 */
export function waitBefore (reason: unknown, retry: number, failures: number): number {
  return (reason instanceof ClientStatusError ? reason.retryAfter : undefined) ?? reconnectDelay(retry, failures)
}

/**
 * Whether trying again cannot help: a status or content type the server will answer again (but a 429
 * or 503 with `Retry-After`), a redirect that cannot be followed, or a request undici refuses to send.
 * Network errors are worth a retry.
 */
function isPermanent (error: unknown): boolean {
  if (error instanceof ClientStatusError) return error.retryAfter === undefined
  return error instanceof ClientContentTypeError || error instanceof ClientRedirectError || (error as { code?: unknown } | null)?.code === 'UND_ERR_INVALID_ARG' || error instanceof TypeError
}

// The MIME type's essence, whatever the case and parameters (`text/event-stream; charset=utf-8`).
function isEventStream (contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && /^\s*text\/event-stream\s*(;|$)/i.test(contentType)
}
