import t from 'tap'
import { createParser, DEFAULT_MAX_EVENT_SIZE, type ParsedEvent } from '../../lib/client/parser.js'
import { ClientEventTooLargeError } from '../../lib/client/errors.js'
import { event, feeds, type Feed } from './parser-helpers.js'

// maxEventSize: every case fed in each way above, and in chunks of a few bytes.
const limitFeeds: Record<string, Feed> = {
  ...feeds,
  'in 3-byte chunks': (parser, input) => { for (let i = 0; i < input.length; i += 3) parser.feed(input.subarray(i, i + 3)) }
}

/** Feeds `input` to a parser limited to `maxEventSize`: the events, and the error it threw, if any. */
function parseLimited (feed: Feed, input: string, maxEventSize: number): { events: ParsedEvent[], error: unknown, parser: ReturnType<typeof createParser> } {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e), maxEventSize })
  let error: unknown
  try {
    feed(parser, Buffer.from(input))
  } catch (caught) {
    error = caught
  }
  return { events, error, parser }
}

function limit (name: string, input: string, maxEventSize: number, expected: { events: ParsedEvent[], tooLarge: boolean }): void {
  t.test(name, async (t) => {
    for (const [how, feed] of Object.entries(limitFeeds)) {
      const { events, error, parser } = parseLimited(feed, input, maxEventSize)
      t.strictSame(events, expected.events, `events, fed ${how}`)
      if (!expected.tooLarge) {
        t.equal(error, undefined, `no error, fed ${how}`)
        continue
      }
      t.ok(error instanceof ClientEventTooLargeError, `the error, fed ${how}`)
      t.match(error, { code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE', limit: maxEventSize, statusCode: 502 })
      // Its buffers were dropped: the next event owes nothing to the one that was too large.
      parser.feed('data: next\n\n')
      t.strictSame(events.slice(expected.events.length), [event('next')], `after the error, fed ${how}`)
    }
  })
}

limit('a line longer than maxEventSize throws, after the events before it', `data: a\n\ndata: ${'x'.repeat(20)}\n\n`, 16, {
  events: [event('a')], tooLarge: true
})
limit('a line that is not data, longer than maxEventSize, throws too', `: ${'x'.repeat(20)}\ndata: a\n\n`, 16, { events: [], tooLarge: true })
limit('a line of exactly maxEventSize passes', `data: ${'x'.repeat(10)}\n\n`, 16, { events: [event('x'.repeat(10))], tooLarge: false })
limit('a line one over maxEventSize throws', `data: ${'x'.repeat(11)}\n\n`, 16, { events: [], tooLarge: true })
limit('many data lines of one event past maxEventSize throw', 'data: 12345\n'.repeat(3) + '\n', 16, { events: [], tooLarge: true })
limit('data of exactly maxEventSize passes', 'data: 1234567\ndata: 12345678\n\n', 16, { events: [event('1234567\n12345678')], tooLarge: false })
limit('the limit is on one event: many events of nearly maxEventSize pass', 'data: 1234567\ndata: 12345678\n\n'.repeat(20), 16, {
  events: Array(20).fill(event('1234567\n12345678')), tooLarge: false
})

t.test('a waiting line that ends past maxEventSize in the next chunk throws, as bytes and as text', async (t) => {
  for (const kind of [(s: string) => Buffer.from(s), (s: string) => s]) {
    const events: ParsedEvent[] = []
    const parser = createParser({ onEvent: (e) => events.push(e), maxEventSize: 16 })
    parser.feed(kind('data: xxxxx'))
    t.throws(() => parser.feed(kind('xxxxxx\ndata: a\n\n')), { code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE' })
    // Within the limit, however far the chunk's last line ending is.
    parser.feed(kind('data: xxxxx'))
    parser.feed(kind('xxxxx\n\ndata: yyyyyyyyy\n\n'))
    t.strictSame(events, [event('xxxxxxxxxx'), event('yyyyyyyyy')])
  }
})

t.test('maxEventSize defaults to 16 MiB and may be Infinity', async (t) => {
  t.equal(DEFAULT_MAX_EVENT_SIZE, 16 * 1024 * 1024)
  const line = Buffer.alloc(DEFAULT_MAX_EVENT_SIZE + 1, 'x')
  const parser = createParser({ onEvent: () => {} })
  t.throws(() => parser.feed(line), { code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE', limit: DEFAULT_MAX_EVENT_SIZE })
  const events: ParsedEvent[] = []
  const unlimited = createParser({ onEvent: (e) => events.push(e), maxEventSize: Infinity })
  unlimited.feed(line)
  unlimited.feed('\n\n')
  t.equal(events.length, 0, 'a line without a field name is ignored, however long')
})

t.test('a maxEventSize that is not a positive integer (or Infinity) is refused', async (t) => {
  for (const maxEventSize of [0, -1, 1.5, NaN, Number.MAX_VALUE]) {
    const error = (() => { try { createParser({ onEvent: () => {}, maxEventSize }) } catch (error) { return error } })()
    t.ok(error instanceof TypeError, String(maxEventSize))
    t.match(error, { code: 'SSE_ERR_CLIENT_INVALID_OPTION', message: /"maxEventSize"/ })
  }
})
