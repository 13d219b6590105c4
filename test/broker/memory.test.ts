import t from 'tap'
import { NO_EPOCH, START } from '../../lib/broker/epoch.js'
import { memoryBroker, type MemoryBrokerOptions } from '../../lib/broker/memory.js'
import { brokerContract } from './contract.js'
import { Recorder, range } from './recorder.js'

brokerContract(t, 'memory', async () => {
  const broker = memoryBroker({ history: 500 })
  return { broker, history: 500, cleanup: () => broker.close() }
})

t.test('memory: the history keeps exactly the last `history` events', async (t) => {
  const broker = memoryBroker({ history: 5 })
  for (let i = 0; i < 12; i++) await broker.publish('room', { data: String(i) })
  const { epoch } = await broker.read('room')
  t.same((await broker.read('room', { epoch, offset: 7 })).events.map((event) => event.offset), range(8, 12))
  t.match(await broker.read('room', { epoch, offset: 6 }), { complete: false, events: [] })
})

t.test('memory: at most `topics` open topics, the least recently used without listeners goes first', async (t) => {
  const broker = memoryBroker({ topics: 3 })
  const epochOf = async (topic: string): Promise<string> => (await broker.read(topic)).epoch
  const open = async (topic: string): Promise<string> => (await broker.publish(topic, { data: 'x' })).epoch
  const a = await open('a')
  await open('b')
  await open('c')
  t.equal(await epochOf('a'), a, 'a read marks a topic used')
  await open('d')
  t.equal(await epochOf('a'), a, 'a recently used topic stays')
  t.equal(await epochOf('b'), NO_EPOCH, 'the least recently used one was forgotten')

  const listened = new Recorder()
  const unlisten = await broker.listen('kept', listened)
  const kept = await broker.publish('kept', { data: 'x' })
  for (const topic of range(1, 10)) await open(`filler:${topic}`)
  t.match(await broker.read('kept', kept), { epoch: kept.epoch, complete: true }, 'a listened topic is never evicted')
  unlisten()
  for (const topic of range(1, 3)) await open(`filler:again:${topic}`)
  t.equal(await epochOf('kept'), NO_EPOCH, 'once nobody listens, it may go')
})

t.test('memory: listened topics may exceed the bound; they are evicted once released', async (t) => {
  const broker = memoryBroker({ topics: 2 })
  const unlistens = await Promise.all(['a', 'b', 'c'].map((topic) => broker.listen(topic, new Recorder())))
  const epochs = await Promise.all(['a', 'b', 'c'].map(async (topic) => (await broker.publish(topic, { data: 'x' })).epoch))
  unlistens[0]()
  t.equal((await broker.read('a')).epoch, NO_EPOCH, 'released over the bound: forgotten at once')
  t.equal((await broker.read('c')).epoch, epochs[2])
})

t.test('memory: item 13: reads of names never published create no topic, so they evict none', async (t) => {
  const broker = memoryBroker({ topics: 2 })
  const a = await broker.publish('a', { data: 'x' })
  const b = await broker.publish('b', { data: 'x' })
  const reads = await Promise.all(range(1, 1000).map((n) => broker.read(`never:${n}`, n % 2 === 0 ? START : undefined)))
  t.ok(reads.every((read) => read.epoch === NO_EPOCH && read.head === 0 && read.complete), 'each reads as never published')
  t.match(await broker.read('a', { epoch: a.epoch, offset: 0 }), { epoch: a.epoch, complete: true, events: [{ data: 'x' }] }, 'the open topics stay')
  t.match(await broker.read('b', { epoch: b.epoch, offset: 0 }), { epoch: b.epoch, complete: true, events: [{ data: 'x' }] })
})

t.test('memory: item 13: a tombstone survives 20 000 other topic names read and listened', async (t) => {
  const broker = memoryBroker()
  await broker.publish('gone', { data: 'last' })
  await broker.closeTopic('gone', { event: 'end', data: 'bye' })
  for (const n of range(1, 20_000)) {
    const topic = `other:${n}`
    await broker.read(topic)
    const unlisten = await broker.listen(topic, new Recorder())
    await broker.read(topic, START)
    if (n % 2 === 0) unlisten()
  }
  const read = await broker.read('gone', START)
  t.match(read, { closed: true, head: 1, complete: true, events: [{ data: 'last' }] }, 'still closed, its history readable')
  t.same(read.final, { event: 'end', data: 'bye' })
  await t.rejects(broker.publish('gone', { data: 'back?' }), { code: 'SSE_ERR_TOPIC_CLOSED' }, 'the closed topic never comes back')
})

t.test('memory: item 13: tombstones have a cap of their own; the oldest closed goes first', async (t) => {
  const broker = memoryBroker({ topics: 1, tombstones: 2 })
  for (const topic of ['a', 'b', 'c']) await broker.closeTopic(topic)
  await broker.read('b')
  await broker.closeTopic('b')
  await broker.closeTopic('d')
  t.equal((await broker.read('a')).closed, false, 'the oldest closed was forgotten: it may open again')
  t.equal((await broker.read('b')).closed, false, 'reading or closing again does not make a tombstone younger')
  for (const topic of ['c', 'd']) t.equal((await broker.read(topic)).closed, true, `${topic} stays closed: \`topics: 1\` does not count tombstones`)
  t.equal((await broker.publish('a', { data: 'x' })).offset, 1)
})

t.test('memory: a close caused from a listener comes after the event being delivered', async (t) => {
  const broker = memoryBroker()
  const recorder = new Recorder()
  await broker.listen('room', {
    event () { broker.closeTopic('room', { data: 'bye' }).catch(t.error) },
    closed () {}
  })
  await broker.listen('room', recorder)
  await broker.publish('room', { data: 'last' })
  t.same(recorder.offsets, [1])
  t.same(recorder.finals, [{ data: 'bye' }])
})

t.test('memory: listening to a closed topic says nothing; the read tells', async (t) => {
  const broker = memoryBroker()
  await broker.closeTopic('room')
  const recorder = new Recorder()
  await broker.listen('room', recorder)
  t.same(recorder.finals, [])
  t.equal((await broker.read('room')).closed, true)
})

t.test('memory: options are validated; item 18: unknown keys are refused', async (t) => {
  const code = 'SSE_ERR_INVALID_OPTION'
  for (const history of [0, -1, 1.5, Number.NaN, '10']) {
    t.throws(() => memoryBroker({ history: history as number }), { code }, `history ${String(history)}`)
  }
  t.throws(() => memoryBroker({ topics: 0 }), { code })
  t.throws(() => memoryBroker({ tombstones: 0 }), { code })
  t.throws(() => memoryBroker({ tombstones: 2.5 }), { code })
  t.throws(() => memoryBroker({ histroy: 5 } as MemoryBrokerOptions), { code, message: /memoryBroker\.histroy/ }, 'a misspelt option')
  t.throws(() => memoryBroker({ prefix: 'sse:' } as MemoryBrokerOptions), { code }, 'a Redis option')
  t.throws(() => memoryBroker('history' as MemoryBrokerOptions), { code }, 'not an object')
  t.ok(memoryBroker({ history: 1, topics: 1, tombstones: 1 }))
})
