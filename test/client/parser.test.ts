import t from 'tap'
import { createParser, type ParsedEvent } from '../../lib/client/parser.js'
import { event, feeds, parseWith, type Parsed } from './parser-helpers.js'

// Every rule is checked with the stream fed in each way of parser-helpers.ts: whole (as text and as
// bytes), one byte at a time, and as text in pieces of one and of seven characters.
function rule (name: string, input: string | Uint8Array, expected: Partial<Parsed>): void {
  t.test(name, async (t) => {
    for (const [how, feed] of Object.entries(feeds)) {
      const parsed = parseWith(feed, input)
      for (const key of Object.keys(expected) as Array<keyof Parsed>) {
        t.strictSame(parsed[key], expected[key], `${key}, fed ${how}`)
      }
    }
  })
}

rule('an event: data, then a blank line', 'data: hello\n\n', { events: [event('hello')] })
rule('LF line endings', 'event: a\ndata: 1\n\n', { events: [event('1', 'a')] })
rule('CR line endings', 'event: a\rdata: 1\r\r', { events: [event('1', 'a')] })
rule('CRLF line endings', 'event: a\r\ndata: 1\r\n\r\n', { events: [event('1', 'a')] })
rule('mixed line endings', 'data: 1\rdata: 2\ndata: 3\r\n\ndata: 4\r\r\n', {
  events: [event('1\n2\n3'), event('4')]
})
rule('CR then LF is one line ending, not two (no early dispatch)', 'data: a\r\ndata: b\r\n\r\n', { events: [event('a\nb')] })
rule('LF then CR is two line endings', 'data: a\n\rdata: b\n\n', { events: [event('a'), event('b')] })
rule('a leading BOM is stripped', '\uFEFFdata: a\n\n', { events: [event('a')] })
rule('only one leading BOM is stripped: a second one makes the field unknown', '\uFEFF\uFEFFdata: a\n\ndata: b\n\n', {
  events: [event('b')]
})
rule('a BOM later in the stream is not stripped', 'data: a\n\uFEFFdata: b\n\n', { events: [event('a')] })
rule('a comment goes to onComment without the colon and one space', ': one\n:two\n:  three\n:\n', {
  comments: ['one', 'two', ' three', ''],
  events: []
})
rule('a comment does not end an event', 'data: a\n: ping\ndata: b\n\n', { events: [event('a\nb')], comments: ['ping'] })
rule('a field without a colon: the line is the name, the value is empty', 'data\n\n', { events: [event('')] })
rule('an event field without a colon resets the type', 'event: x\nevent\ndata: a\n\n', { events: [event('a')] })
rule('one space after the colon is removed, only one', 'data:  a\n\ndata:b\n\ndata: \n\n', {
  events: [event(' a'), event('b'), event('')]
})
rule('a colon in a value is kept', 'data: a: b:c\n\n', { events: [event('a: b:c')] })
rule('data lines are joined with LF and the last LF is removed', 'data: a\ndata:\ndata: b\n\n', { events: [event('a\n\nb')] })
rule('two empty data lines make one LF', 'data\ndata\n\n', { events: [event('\n')] })
rule('the type defaults to message, also when empty', 'event:\ndata: a\n\n', { events: [event('a')] })
rule('the type is reset after each event', 'event: a\ndata: 1\n\ndata: 2\n\n', { events: [event('1', 'a'), event('2')] })
rule('an id persists across events', 'id: 7\ndata: a\n\ndata: b\n\n', { events: [event('a', 'message', '7'), event('b', 'message', '7')] })
rule('the id is the buffer at dispatch time, wherever the line is', 'data: a\nid: 5\n\n', { events: [event('a', 'message', '5')] })
rule('an id with NUL is ignored', 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n', {
  events: [event('a', 'message', '1'), event('b', 'message', '1')]
})
rule('a NUL elsewhere does not hide an id, before or after it; one in a later id is seen', 'data: a\u0000b\nid: 1\n\nid: 2\u0000\ndata: c\n\nid: 3\ndata: d\u0000\n\n', {
  events: [event('a\u0000b', 'message', '1'), event('c', 'message', '1'), event('d\u0000', 'message', '3')]
})
rule('an empty id clears it, with or without a colon', 'id: 1\ndata: a\n\nid:\ndata: b\n\nid: 2\n\nid\ndata: c\n\n', {
  events: [event('a', 'message', '1'), event('b'), event('c')]
})
rule('an id-only block sets the last event id without an event', 'id: 3\n\n', { events: [], lastEventId: '3' })
rule('retry with ASCII digits only', 'retry: 1500\nretry:007\n', { retries: [1500, 7], events: [] })
rule('retry is ignored unless all ASCII digits', 'retry: 10a\nretry: -1\nretry: 1.5\nretry:\nretry\nretry:  5\nretry: \u0661\n', {
  retries: []
})
rule('nothing is dispatched without data, but the type is reset', 'event: x\nid: 1\n\ndata: a\n\n', {
  events: [event('a', 'message', '1')]
})
rule('unknown fields are ignored', 'foo: bar\nDATA: x\ndat: y\ndata: a\n\n', { events: [event('a')] })
rule('an unterminated event is dropped at the end', 'data: a\n\ndata: b\n', { events: [event('a')] })
rule('an unterminated line is dropped at the end', 'data: a\n\nid: 9\ndata: b', { events: [event('a')], lastEventId: '' })
rule('an id of an undispatched event does not become the last event id', 'id: 1\n\nid: 2\ndata: x\n', { lastEventId: '1' })
rule('UTF-8 in names and values, split anywhere when fed byte by byte', 'event: caf\u00e9\ndata: \u20ac \ud83d\ude00 \u4e2d\n\n', {
  events: [event('\u20ac \ud83d\ude00 \u4e2d', 'caf\u00e9')]
})
rule('invalid UTF-8 becomes U+FFFD', Buffer.from([...Buffer.from('data: a'), 0xff, 0xe2, 0x82, 10, 10]), {
  events: [event('a\ufffd\ufffd')]
})
rule('a truncated code point before a line ending is U+FFFD, the line ending is kept', Buffer.from([...Buffer.from('data: '), 0xf0, 0x9f, 13, 10, 10]), {
  events: [event('\ufffd')]
})
rule('a long line of other characters (decoded by another path)', `data: ${'\u00e9\u4e2d\ud83d\ude00'.repeat(500)}\n\n`, {
  events: [event('\u00e9\u4e2d\ud83d\ude00'.repeat(500))]
})
rule('a long line with invalid bytes', Buffer.concat([Buffer.from('data: ' + '\u00e9'.repeat(600)), Buffer.from([0xed, 0xa0, 0x80, 0xc3, 10, 10])]), {
  events: [event('\u00e9'.repeat(600) + '\ufffd\ufffd\ufffd\ufffd')]
})
rule('a long ASCII line', `data: ${'a'.repeat(5000)}\r\n\r\n`, { events: [event('a'.repeat(5000))] })
rule('many lines with only CR, far from any LF', 'data: a\r'.repeat(1000) + '\r', { events: [event(Array(1000).fill('a').join('\n'))] })
rule('many lines without a colon', 'data\n'.repeat(1000) + '\n', { events: [event('\n'.repeat(999))] })
rule('long lines before a short one', `data: ${'x'.repeat(100_000)}\nid: 1\n\n`, { events: [event('x'.repeat(100_000), 'message', '1')] })

t.test('a CR at the end of a chunk and the LF at the start of the next make one line ending', async (t) => {
  for (const split of [(s: string) => s, (s: string) => Buffer.from(s)]) {
    const events: ParsedEvent[] = []
    const parser = createParser({ onEvent: (e) => events.push(e) })
    parser.feed(split('data: a\r'))
    parser.feed(split(''))
    parser.feed(split('\ndata: b\r'))
    parser.feed(split('\n\r'))
    parser.feed(split('\n'))
    t.strictSame(events, [event('a\nb')])
  }
})

t.test('an event is dispatched at its blank line, before the next chunk comes', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed('data: a\r\r')
  t.strictSame(events, [event('a')])
  parser.feed(Buffer.from('data: b\n\r'))
  t.strictSame(events, [event('a'), event('b')])
})

t.test('end() readies the parser for the next stream and keeps the last event id', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed('\uFEFFid: 1\ndata: a\n\nevent: x\ndata: lost')
  parser.end()
  parser.feed('\uFEFFdata: b\n\n')
  t.strictSame(events, [event('a', 'message', '1'), event('b', 'message', '1')])
  t.equal(parser.lastEventId, '1')
})

t.test('reset() forgets the last event id too', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e), lastEventId: 'start' })
  parser.feed(Buffer.from('data: a\n\nid: 2\n\ndata: pending'))
  parser.reset()
  t.equal(parser.lastEventId, '')
  parser.feed('data: b\n\n')
  t.strictSame(events, [event('a', 'message', 'start'), event('b')])
})

t.test('the lastEventId option is reported until an id field', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e), lastEventId: '41' })
  t.equal(parser.lastEventId, '41')
  parser.feed('data: a\n\nid: 42\ndata: b\n\n')
  t.strictSame(events, [event('a', 'message', '41'), event('b', 'message', '42')])
})

t.test('without onRetry and onComment, those lines are skipped', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed('retry: 10\n: hi\ndata: a\n\n')
  t.strictSame(events, [event('a')])
})

t.test('a line split across text chunks that hold both line endings', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed('data: a')
  parser.feed('b\r\ndata: c\n\n')
  parser.feed('data: d')
  parser.feed('e\n\rdata: f\r\r')
  t.strictSame(events, [event('ab\nc'), event('de'), event('f')])
})

t.test('a line split across text chunks with LF only: the next line is read once, from its start', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed('data: a')
  parser.feed('b\ndata: c\n\n')
  t.strictSame(events, [event('ab\nc')])
})

t.test('text after bytes: bytes waiting for their line ending are decoded first', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  parser.feed(Buffer.from('data: caf\u00e9 '))
  parser.feed('au lait\n')
  parser.feed(new Uint8Array(Buffer.from('\n')))
  t.strictSame(events, [event('caf\u00e9 au lait')])
})

t.test('bytes in a plain Uint8Array or a view into a larger buffer', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  const backing = new TextEncoder().encode('xxdata: a\n\nyy')
  parser.feed(backing.subarray(2, 11))
  parser.feed(new Uint8Array(backing.buffer, 2, 9))
  t.strictSame(events, [event('a'), event('a')])
})

t.test('the caller may reuse its buffer: a pending line is copied', async (t) => {
  const events: ParsedEvent[] = []
  const parser = createParser({ onEvent: (e) => events.push(e) })
  const buffer = Buffer.from('data: abc')
  parser.feed(buffer)
  buffer.write('zzzzzzzzz')
  parser.feed(Buffer.from('\n\n'))
  t.strictSame(events, [event('abc')])
})

t.test('one huge event fed in small chunks, as bytes and as text', async (t) => {
  const data = 'y'.repeat(3 << 20)
  const stream = Buffer.from(`id: big\ndata: ${data}\n\n`)
  for (const asText of [false, true]) {
    const events: ParsedEvent[] = []
    const parser = createParser({ onEvent: (e) => events.push(e) })
    for (let i = 0; i < stream.length; i += 1000) {
      const piece = stream.subarray(i, i + 1000)
      parser.feed(asText ? piece.toString('latin1') : piece)
    }
    t.equal(events.length, 1)
    t.equal(events[0].data.length, data.length)
    t.equal(events[0].lastEventId, 'big')
    // The memory of the huge line is not kept for the next one.
    parser.feed(Buffer.from('data: small'))
    parser.feed(Buffer.from('\n\n'))
    t.equal(events[1].data, 'small')
  }
})

t.test('many small events in one chunk and in a few bytes at a time', async (t) => {
  let text = ''
  for (let i = 0; i < 500; i++) text += `id: ${i}\nevent: tick\ndata: {"n":${i}}\n\n`
  const bytes = Buffer.from(text)
  for (const size of [bytes.length, 5, 3]) {
    const events: ParsedEvent[] = []
    const parser = createParser({ onEvent: (e) => events.push(e) })
    for (let i = 0; i < bytes.length; i += size) parser.feed(bytes.subarray(i, i + size))
    t.equal(events.length, 500)
    t.strictSame(events[499], event('{"n":499}', 'tick', '499'))
  }
})
