import t from 'tap'
import { MAX_BACKOFF, MAX_RETRY_AFTER, MIN_RETRY, parseRetryAfter, reconnectDelay } from '../../lib/client/backoff.js'

t.test('after a stream that opened, the delay is the server\'s retry, exactly', async (t) => {
  t.equal(reconnectDelay(1500, 0), 1500)
  t.equal(reconnectDelay(2 ** 40, 0), 2 ** 31 - 1, 'clamped to what a timer can wait')
})

t.test('after failures, between half and all of retry * 2^failures', async (t) => {
  t.equal(reconnectDelay(1000, 1, () => 0), 1000)
  t.equal(reconnectDelay(1000, 1, () => 1), 2000)
  t.equal(reconnectDelay(1000, 3, () => 0.5), 6000)
  t.equal(reconnectDelay(1000, 10, () => 1), MAX_BACKOFF, 'capped')
  t.equal(reconnectDelay(1000, 10, () => 0), MAX_BACKOFF / 2)
  t.equal(reconnectDelay(60_000, 3, () => 1), 60_000, 'a retry over the cap does not grow')
  t.equal(reconnectDelay(2 ** 40, 1, () => 1), 2 ** 31 - 1)
  const delay = reconnectDelay(1000, 2)
  t.ok(delay >= 2000 && delay <= 4000, 'Math.random by default')
})

t.test('Retry-After in seconds or as an HTTP date', async (t) => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')
  t.equal(parseRetryAfter('120', now), 120_000)
  t.equal(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now), 30_000)
  for (const value of [undefined, ['1', '2'], '', '1.5', '-1', 'soon', 'Wed, 99 Foo']) {
    t.equal(parseRetryAfter(value, now), undefined, JSON.stringify(value))
  }
  t.type(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT'), 'number', 'now by default')
})

t.test('item 9: no delay is below MIN_RETRY, whatever retry the server sent', async (t) => {
  t.equal(MIN_RETRY, 250)
  t.equal(reconnectDelay(0, 0), MIN_RETRY, 'retry: 0 after a stream that opened')
  t.equal(reconnectDelay(1, 0), MIN_RETRY)
  t.equal(reconnectDelay(NaN, 0), MIN_RETRY, 'a retry option that is not a number')
  t.equal(reconnectDelay(0, 1, () => 0), MIN_RETRY, 'backoff starts from the floor')
  t.equal(reconnectDelay(0, 3, () => 1), MIN_RETRY * 8)
  t.equal(reconnectDelay(MIN_RETRY + 1, 0), MIN_RETRY + 1, 'above the floor, as the server asked')
})

t.test('item 9: Retry-After is obeyed within MIN_RETRY and MAX_RETRY_AFTER', async (t) => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')
  t.equal(MAX_RETRY_AFTER, 5 * 60_000)
  t.equal(parseRetryAfter('2000000', now), MAX_RETRY_AFTER, 'about 23 days asked: the cap')
  t.equal(parseRetryAfter('99999999999', now), MAX_RETRY_AFTER)
  t.equal(parseRetryAfter('Sat, 21 Nov 2026 07:28:00 GMT', now), MAX_RETRY_AFTER, 'a date a month away')
  t.equal(parseRetryAfter('299', now), 299_000, 'below the cap: as asked')
  t.equal(parseRetryAfter(' 0 ', now), MIN_RETRY, 'at once is no reason to spin')
  t.equal(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now), MIN_RETRY, 'a date in the past')
})
