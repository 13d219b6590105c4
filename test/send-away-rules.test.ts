import fc from 'fast-check'
import t from 'tap'
import { MAX_RETRY_AFTER, MIN_RETRY } from '../lib/client/backoff.js'
import { ClientContentTypeError, ClientEventTooLargeError, ClientStatusError } from '../lib/client/errors.js'
import { answerOf, isFinal, waitBefore } from '../lib/client/reconnect-rules.js'
import { formats } from '../lib/protocol/formats.js'
import { partingWords, sendAwayAnswer, sendAwayDelays } from '../lib/send-away.js'

// The two rule modules of issue 12 item 5, on their own: how the server sends a client away, and
// how the client decides whether and when to come back.

t.test('send-away delays: between one and five times the base, never under 250 ms, default 1 s', async (t) => {
  fc.assert(fc.property(fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, r) => {
    const base = Math.max(retry ?? 1000, 250)
    const delay = sendAwayDelays(retry, () => r)()
    return delay >= base && delay <= 5 * base
  }))
  t.equal(sendAwayDelays(0, () => 0)(), 250, 'retry: 0 does not make clients spin')
  t.equal(sendAwayDelays(undefined, () => 0.5)(), 3000)
})

t.test('send-away answer: a 200 retry: block for event streams, a 503 Retry-After otherwise', async (t) => {
  const sse = sendAwayAnswer(formats.sse, 1500)
  t.same({ status: sse.status, body: sse.body, type: sse.headers['content-type'], cache: sse.headers['cache-control'] },
    { status: 200, body: 'retry: 1500\n\n', type: formats.sse.contentType, cache: 'no-cache, no-transform' })
  const ndjson = sendAwayAnswer(formats.ndjson, 1500)
  t.same(ndjson, { kind: 'status', status: 503, headers: { 'retry-after': 2 }, body: '' }, 'whole seconds, rounded up')
  t.equal(partingWords(formats.sse, 700), 'retry: 700\n\n')
  t.equal(partingWords(formats.ndjson, 700), undefined, 'nothing written to an open ndjson stream')
})

t.test('reconnect rules: what a response means', async (t) => {
  t.equal(answerOf(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' }), 'stream')
  t.equal(answerOf(204, {}), 'end')
  const busy = answerOf(503, { 'retry-after': '7' })
  t.ok(busy instanceof ClientStatusError && busy.retryAfter === 7000, 'a 503 says when to come back')
  const gone = answerOf(500, { 'retry-after': '7' })
  t.ok(gone instanceof ClientStatusError && gone.retryAfter === undefined, 'a 500 Retry-After is not obeyed')
  t.ok(answerOf(200, { 'content-type': 'text/html' }) instanceof ClientContentTypeError)
  t.ok(answerOf(200, {}) instanceof ClientContentTypeError, 'no content type at all')
})

t.test('reconnect rules: whether and when to come back', async (t) => {
  const tooLarge = new ClientEventTooLargeError(10)
  t.equal(isFinal(tooLarge, true), true, 'an event too large: the server would send it again')
  t.equal(isFinal(new Error('socket hang up'), true), false, 'a drop after a stream opened is retried')
  t.equal(isFinal(new ClientStatusError(404, undefined), false), true, 'a 404 before a stream is final')
  t.equal(isFinal(new ClientStatusError(503, 1000), false), false, 'a 503 that says when is retried')
  t.equal(waitBefore(new ClientStatusError(503, 9000), 100, 1), 9000, 'Retry-After wins over the backoff')
  fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 7 }), fc.integer({ min: 0, max: 40 }), (retry, failures) => {
    const wait = waitBefore(new Error('reset'), retry, failures)
    return wait >= MIN_RETRY && Number.isFinite(wait)
  }))
  const capped = answerOf(429, { 'retry-after': String(24 * 24 * 3600) })
  t.equal((capped as ClientStatusError).retryAfter, MAX_RETRY_AFTER, 'a 24-day Retry-After is capped')
})
