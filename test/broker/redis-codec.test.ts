import t from 'tap'
import { NO_EPOCH } from '../../lib/broker/epoch.js'
import type { EventPayload } from '../../lib/broker/types.js'
import { CloseMessage, decodeEntry, decodeFinal, decodeMessage, decodePayload, encodePayload } from '../../lib/redis/codec.js'
import { toSnapshot } from '../../lib/redis/scripts.js'
import { nextTurn, warningsOf, watchProcess } from './process-watch.js'

// The Redis wire format alone: what the broker writes comes back as it was; anything else throws,
// for the caller to drop.

const payloads: EventPayload[] = [
  { event: undefined, data: '' },
  { event: '', data: '' },
  { event: 'ünïcödé', data: '{"a":"ß🎉"}\nsecond line' },
  { event: '5:abc', data: ':5:x' },
  { event: undefined, data: 'c' }
]

t.test('redis codec: a payload, an event, a close and an entry come back as written', async (t) => {
  for (const payload of payloads) {
    const encoded = Buffer.from(encodePayload(payload))
    t.same(decodePayload(encoded), payload, JSON.stringify(payload))
    t.same(decodeMessage('room', Buffer.from(`eE1-x_:42:${encodePayload(payload)}`)), { topic: 'room', epoch: 'E1-x_', offset: 42, ...payload })
    t.same(decodeMessage('room', Buffer.from(`c${encodePayload(payload)}`)), new CloseMessage(payload))
    t.same(decodeEntry('room', 'E1', Buffer.from('7-0'), [Buffer.from('p'), encoded]), { topic: 'room', epoch: 'E1', offset: 7, ...payload })
  }
  t.same(decodeMessage('room', Buffer.from('c')), new CloseMessage(undefined), 'a close without a final payload')
  t.equal(decodeFinal(Buffer.alloc(0)), undefined)
})

t.test('redis codec: item 4: bytes the broker could not have written throw, as malformed', async (t) => {
  const messages = ['', 'x', 'e', 'eE1', 'eE1:', 'eE1:1', 'e:1::x', 'eE.1:1::x', `e${NO_EPOCH}:1::x`, 'eE1:0::x', 'eE1:01::x',
    'eE1:1.5::x', 'eE1:99999999999999999::x', 'eE1:1:x', 'eE1:1:4:abc', 'eE1:1:-1:abc', 'eE1:1:a:b', 'cx', 'c3:ab']
  for (const message of messages) t.throws(() => decodeMessage('room', Buffer.from(message)), /malformed/, JSON.stringify(message))
  t.throws(() => decodeMessage('room', Buffer.from([0x65, 0x45, 0x31, 0x3a, 0x31, 0x3a, 0x3a, 0xc3, 0x28])), /UTF-8/, 'data that is not UTF-8')
  t.throws(() => decodePayload(Buffer.from([0x31, 0x3a, 0xc3, 0xa9])), /malformed/, 'an event name that cuts a character in two')
  const entry = (id: string, ...fields: string[]): unknown => decodeEntry('room', 'E1', Buffer.from(id), fields.map((field) => Buffer.from(field)))
  for (const [id, fields] of [['1-1', ['p', ':x']], ['0-0', ['p', ':x']], ['1', ['p', ':x']], ['1-0', ['q', ':x']], ['1-0', ['p']],
    ['1-0', ['p', ':x', 'p', ':y']], ['1-0', ['p', 'x']]] as const) {
    t.throws(() => entry(id, ...fields), /malformed/, `entry ${id} ${JSON.stringify(fields)}`)
  }
})

t.test('redis codec: item 4: a read drops the entries and the final payload that do not decode, and reports them', async (t) => {
  const watch = watchProcess(t)
  const entry = (id: string, payload: string): [Buffer, Buffer[]] => [Buffer.from(id), [Buffer.from('p'), Buffer.from(payload)]]
  const snapshot = toSnapshot('room', [Buffer.from('E1'), 4, 1, Buffer.from('garbage'), [entry('1-0', ':one'), entry('2-0', 'bad'), entry('3-1', ':dup'), entry('4-0', ':four')]])
  t.same(snapshot.events.map((event) => [event.offset, event.data]), [[1, 'one'], [4, 'four']])
  t.match(snapshot, { epoch: 'E1', head: 4, closed: true, final: undefined })
  await nextTurn()
  t.equal(warningsOf(watch, 'SSE_WARN_MALFORMED').length, 3)
  t.same(watch.uncaught, [])
})
