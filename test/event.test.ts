import t from 'tap'
import { Event, SseEvent } from '../lib/index.js'
import { describeInvalidChunk, encoderFor } from '../lib/protocol/encoders.js'

t.test('fields, in order, ending with a blank line', async (t) => {
  t.equal(new Event({ data: 'hi' }).toString(), 'data: hi\n\n')
  t.equal(new Event({ data: 'hi', event: 'greet', id: '7', retry: 1500, comment: 'c' }).toString(),
    ':c\nevent: greet\nretry: 1500\ndata: hi\nid: 7\n\n')
  t.equal(SseEvent, Event)
})

t.test('data: strings split on CR, LF and CRLF; anything else is JSON', async (t) => {
  t.equal(new Event({ data: 'a\nb\r\nc\rd' }).toString(), 'data: a\ndata: b\ndata: c\ndata: d\n\n')
  t.equal(new Event({ data: 'trailing\n' }).toString(), 'data: trailing\ndata: \n\n')
  t.equal(new Event({ data: { time: 'now', text: 'a\nb' } }).toString(), 'data: {"time":"now","text":"a\\nb"}\n\n')
  t.equal(new Event({ data: 42 }).toString(), 'data: 42\n\n')
  t.equal(new Event({ data: '' }).toString(), 'data: \n\n')
  t.equal(new Event({ data: { a: 1 } }).json, true)
  t.equal(new Event({ data: 'x' }).json, false)
})

t.test('comments', async (t) => {
  t.equal(Event.comment().toString(), ':\n\n')
  t.equal(Event.comment('two\nlines').toString(), ':two\n:lines\n\n')
})

t.test('no input can forge a second event', async (t) => {
  for (const field of ['event', 'id'] as const) {
    for (const bad of ['a\nb', 'a\rb', 'a\r\nevent: forged']) {
      t.throws(() => new Event({ data: 'x', [field]: bad }), { code: 'SSE_ERR_INVALID_FIELD' }, `${field} ${JSON.stringify(bad)}`)
      t.ok((() => { try { new Event({ data: 'x', [field]: bad }) } catch (error) { return error instanceof TypeError } })(), 'a TypeError')
    }
  }
  t.throws(() => new Event({ data: 'x', id: 'a\0b' }), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({ data: 'x', event: 42 as never }), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({ data: 'x', retry: -1 }), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({ data: 'x', retry: 1.5 }), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({}), { code: 'SSE_ERR_INVALID_FIELD', message: /needs data/ })
  t.throws(() => new Event(null as never), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({ data: undefined, comment: 5 as never }), { code: 'SSE_ERR_INVALID_FIELD' })
  t.throws(() => new Event({ data: () => {} }), { code: 'SSE_ERR_INVALID_FIELD', message: /cannot be serialized/ })
})

t.test('the text is computed once; another id gives another text', async (t) => {
  const event = new Event({ data: 'x', id: '1' })
  t.equal(event.text(), event.text())
  t.equal(event.text('cursor'), 'data: x\nid: cursor\n\n')
  t.equal(new Event({ data: 'x' }).text(undefined), 'data: x\n\n')
})

t.test('encoders', async (t) => {
  const event = new Event({ data: { a: 1 }, event: 'e', id: '1' })
  t.equal(encoderFor('sse')(event, undefined), 'event: e\ndata: {"a":1}\nid: 1\n\n')
  t.equal(encoderFor('sse')(event, 'c'), 'event: e\ndata: {"a":1}\nid: c\n\n')
  t.equal(encoderFor('ndjson')(event, undefined), '{"a":1}\n')
  t.equal(encoderFor('ndjson')(new Event({ data: 'multi\nline' }), undefined), '"multi\\nline"\n')
  t.equal(encoderFor('ndjson')(Event.comment('x'), undefined), '')
  t.equal(encoderFor('raw')(new Event({ data: 'abc' }), undefined), 'abc')
  t.equal(encoderFor('raw')(Event.comment('x'), undefined), '')
})

t.test('an invalid chunk names the mistake', async (t) => {
  t.match(describeInvalidChunk(new globalThis.Event('x')), { code: 'SSE_ERR_INVALID_CHUNK', message: /DOM Event/ })
  t.match(describeInvalidChunk(null), { message: /null/ })
  t.match(describeInvalidChunk(42), { message: /a number/ })
  t.match(describeInvalidChunk({}), { message: /an object \(Object\)/ })
  t.match(describeInvalidChunk(Object.create(null)), { message: /no prototype/ })
})

/** Every C0 control character (U+0000 to U+001F) and DEL. */
const CONTROLS = [...Array.from({ length: 32 }, (_, code) => code), 0x7f].map((code) => String.fromCharCode(code))

t.test('item 10: event and id refuse every C0 control character and DEL, naming the field', async (t) => {
  for (const field of ['event', 'id'] as const) {
    for (const control of CONTROLS) {
      const label = `${field} with U+${control.charCodeAt(0).toString(16).padStart(4, '0')}`
      let caught: unknown
      try { new Event({ data: 'x', [field]: `a${control}b` }) } catch (error) { caught = error }
      t.match(caught, { code: 'SSE_ERR_INVALID_FIELD', message: new RegExp(`"${field}".*control character`) }, label)
      t.ok(caught instanceof TypeError, `${label}: a TypeError`)
    }
  }
  t.equal(new Event({ data: 'x', event: 'ü é ✓', id: '~!@#$%^&*() 7' }).toString(), 'event: ü é ✓\ndata: x\nid: ~!@#$%^&*() 7\n\n', 'printable text is kept')
})

t.test('item 10: a comment may hold any character; its line breaks become comment lines, so it forges nothing', async (t) => {
  t.equal(Event.comment('tab\there\0nul\u007f').toString(), ':tab\there\0nul\u007f\n\n')
  t.equal(Event.comment('a\n\ndata: forged\r\nid: 1').toString(), ':a\n:\n:data: forged\n:id: 1\n\n')
})

t.test('item 18: an EventInit with an unknown key throws SSE_ERR_INVALID_FIELD, naming the key', async (t) => {
  t.throws(() => new Event({ data: 'x', evnet: 'typo' } as never), { code: 'SSE_ERR_INVALID_FIELD', message: /"evnet"/ })
  t.throws(() => new Event({ data: 'x', ID: '1' } as never), { code: 'SSE_ERR_INVALID_FIELD', message: /"ID"/ })
  t.throws(() => new Event({ data: 'x', evnet: undefined } as never), { code: 'SSE_ERR_INVALID_FIELD' }, 'even when undefined: a typo all the same')
})

t.test('data that JSON cannot serialize is SSE_ERR_INVALID_FIELD, not a bare TypeError', async (t) => {
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  for (const data of [10n, { n: 1n }, cyclic, { toJSON () { throw new Error('no') } }, Symbol('s')]) {
    t.throws(() => new Event({ data }), { code: 'SSE_ERR_INVALID_FIELD', message: /"data"/ })
  }
})
