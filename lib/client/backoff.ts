/** The reconnection delay until the server sends `retry:`, in ms (browsers use 3 to 5 seconds). */
export const DEFAULT_RETRY = 3000

/** Backoff stops growing here, unless the server's own `retry:` is longer. */
export const MAX_BACKOFF = 30_000

/** The longest a timer can wait: setTimeout fires at once for anything longer. */
export const MAX_TIMER = 2 ** 31 - 1

/**
 * How long to wait before the next attempt. After a stream that opened, then ended or dropped
 * (`failures` 0): the server's `retry`, as it asked. After `failures` consecutive attempts that did not
 * open: exponential backoff with "equal jitter", between half and all of `retry * 2^failures` (capped
 * at MAX_BACKOFF), so that many clients of a restarted server do not all come back at the same moment.
 */
export function reconnectDelay (retry: number, failures: number, random: () => number = Math.random): number {
  if (failures === 0) return Math.min(retry, MAX_TIMER)
  const ceiling = Math.min(Math.max(retry, MAX_BACKOFF), retry * 2 ** failures, MAX_TIMER)
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}

/** `Retry-After` in ms: seconds, or an HTTP date (which starts with a day name); else undefined. */
export function parseRetryAfter (value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_TIMER)
  const date = /^[a-z]{3}/i.test(text) ? Date.parse(text) : NaN
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - now, 0), MAX_TIMER)
}
