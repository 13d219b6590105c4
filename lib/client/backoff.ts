/** The reconnection delay until the server sends `retry:`, in ms (browsers use 3 to 5 seconds). */
export const DEFAULT_RETRY = 3000

/**
 * The shortest wait before any reconnection, in ms, whatever the server's `retry:` or `Retry-After`
 * says (`retry: 0` is valid, and a stream that ends at once would make it a busy loop). 250 ms keeps a
 * broken or hostile server at 4 requests a second per client, while a short retry a server means
 * (the plugin's jittered `retry:` at shutdown is in seconds) is still obeyed as it is.
 */
export const MIN_RETRY = 250

/** Backoff stops growing here, unless the server's own `retry:` is longer. */
export const MAX_BACKOFF = 30_000

/**
 * The longest `Retry-After` obeyed, in ms: 5 minutes. Longer than any overload a server sheds this
 * way, short enough that a wrong or hostile value (a day, a month) cannot park a client for good: a
 * server that still wants it gone says so again on the next attempt.
 */
export const MAX_RETRY_AFTER = 5 * 60_000

/** The longest a timer can wait: setTimeout fires at once for anything longer. */
export const MAX_TIMER = 2 ** 31 - 1

/**
 * How long to wait before the next attempt, never less than MIN_RETRY. After a stream that opened,
 * then ended or dropped (`failures` 0): the server's `retry`, as it asked. After `failures`
 * consecutive attempts that did not open: exponential backoff with "equal jitter", between half and
 * all of `retry * 2^failures` (capped at MAX_BACKOFF), so that many clients of a restarted server do
 * not all come back at the same moment.
 */
export function reconnectDelay (retry: number, failures: number, random: () => number = Math.random): number {
  const base = clamp(retry, MIN_RETRY, MAX_TIMER)
  if (failures === 0) return base
  const ceiling = Math.min(Math.max(base, MAX_BACKOFF), base * 2 ** failures, MAX_TIMER)
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

/**
 * `Retry-After` (seconds, or an HTTP date, which starts with a day name) as the wait in ms, within
 * MIN_RETRY and MAX_RETRY_AFTER; undefined when it is neither.
 */
export function parseRetryAfter (value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : /^[a-z]{3}/i.test(text) ? Date.parse(text) - now : NaN
  return Number.isNaN(ms) ? undefined : clamp(ms, MIN_RETRY, MAX_RETRY_AFTER)
}

// Also turns NaN (a `retry` option that is not a number) into the floor rather than a 1 ms timer.
function clamp (value: number, min: number, max: number): number {
  return value >= min ? Math.min(value, max) : min
}
