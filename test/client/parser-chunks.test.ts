import { deepStrictEqual, strictEqual } from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { createParser } from '../../lib/client/parser.js'
import { decode } from '../../lib/client/line-bytes.js'
import type { Parsed } from './parser-helpers.js'

// However a stream is cut, as bytes or as text, the parser sees the same events as when it is given
// the whole stream decoded at once by TextDecoder (the Encoding standard's own decoder). The cuts are
// where line handling goes wrong: a line ending, a `data:` name, a code point or an invalid sequence
// split between two chunks, a line long enough for another decoder.

const whole = new TextDecoder('utf-8', { ignoreBOM: true })

const token = fc.oneof(
  fc.constantFrom('data:', 'data: ', 'data', 'event: ', 'id: ', 'id:', 'retry: ', 'retry: 12', ':', ': c', 'x', 'abc', ' ', '12'),
  fc.constantFrom('\n', '\n', '\r', '\r\n', '\n\n', '\u0000', '\uFEFF', '\u00e9', '\u20ac', '\ud83d\ude00'),
  fc.constantFrom('y'.repeat(1500), '\u00e9\u4e2d'.repeat(400)),
  // Invalid bytes: a lone continuation, truncated sequences, a byte never valid, an overlong form, a
  // surrogate.
  fc.constantFrom([0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80])
)

const stream = fc.array(token, { maxLength: 60 }).map((tokens) =>
  Buffer.concat(tokens.map((piece) => typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece))))

const cuts = fc.array(fc.nat(), { maxLength: 12 })

function chunks (bytes: Buffer, at: number[]): Buffer[] {
  const positions = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let from = 0
  for (const to of [...positions, bytes.length]) {
    pieces.push(bytes.subarray(from, to))
    from = to
  }
  return pieces
}

function parse (pieces: Array<string | Uint8Array>): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [], lastEventId: '' }
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onRetry: (ms) => parsed.retries.push(ms),
    onComment: (text) => parsed.comments.push(text)
  })
  for (const piece of pieces) parser.feed(piece)
  parsed.lastEventId = parser.lastEventId
  parser.end()
  return parsed
}

t.test('bytes cut anywhere parse as the whole stream decoded at once', async (t) => {
  fc.assert(fc.property(stream, cuts, (bytes, at) => {
    deepStrictEqual(parse(chunks(bytes, at)), parse([whole.decode(bytes)]))
  }), { numRuns: 1000 })
  t.pass('1000 streams')
})

t.test('text cut anywhere (as a streaming TextDecoder gives it) parses as the whole stream', async (t) => {
  fc.assert(fc.property(stream, cuts, (bytes, at) => {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
    const texts = chunks(bytes, at).map((piece) => decoder.decode(piece, { stream: true }))
    texts.push(decoder.decode())
    deepStrictEqual(parse(texts), parse([whole.decode(bytes)]))
  }), { numRuns: 1000 })
  t.pass('1000 streams')
})

t.test('every decoder the parser picks gives what TextDecoder gives, on any bytes', async (t) => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ minLength: 1024, maxLength: 1400 }),
    // Long valid text, with or without a broken sequence somewhere.
    fc.tuple(fc.string({ unit: 'grapheme', minLength: 400, maxLength: 600 }), fc.uint8Array({ maxLength: 3 }), fc.nat())
      .map(([text, bad, at]) => {
        const good = Buffer.from(text)
        const cut = at % (good.length + 1)
        return Buffer.concat([good.subarray(0, cut), Buffer.from(bad), good.subarray(cut)])
      })
  )
  fc.assert(fc.property(bytes, fc.uint8Array({ maxLength: 4 }), (input, around) => {
    const buffer = Buffer.from(input)
    strictEqual(decode(buffer, 0, buffer.length), whole.decode(buffer))
    // A part of a larger buffer, as the bytes of a line waiting in the parser's own buffer.
    const larger = Buffer.concat([around, buffer, around])
    strictEqual(decode(larger, around.length, around.length + buffer.length), whole.decode(buffer))
  }), { numRuns: 500 })
  t.pass('500 inputs')
})
