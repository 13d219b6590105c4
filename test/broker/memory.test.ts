import t from 'tap'
import { memoryBroker } from '../../lib/broker/memory.js'
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

t.test('memory: at most `topics` topics, the least recently used without listeners goes first', async (t) => {
  const broker = memoryBroker({ topics: 3 })
  const epochOf = async (topic: string): Promise<string> => (await broker.read(topic)).epoch
  const a = await epochOf('a')
  const b = await epochOf('b')
  await epochOf('c')
  await broker.publish('a', { data: 'a is used again' })
  await epochOf('d')
  t.equal(await epochOf('a'), a, 'a recently used topic stays')
  t.not(await epochOf('b'), b, 'the least recently used one was forgotten: a new epoch')

  const listened = new Recorder()
  const unlisten = await broker.listen('kept', listened)
  const kept = await broker.publish('kept', { data: 'x' })
  for (const topic of range(1, 10)) await epochOf(`filler:${topic}`)
  t.match(await broker.read('kept', kept), { epoch: kept.epoch, complete: true }, 'a listened topic is never evicted')
  unlisten()
  for (const topic of range(1, 3)) await epochOf(`filler:again:${topic}`)
  t.not(await epochOf('kept'), kept.epoch, 'once nobody listens, it may go')

  await broker.closeTopic('gone')
  for (const topic of range(1, 3)) await epochOf(`filler:more:${topic}`)
  t.equal((await broker.read('gone')).closed, false, 'a tombstone counts as a topic and is evicted too')
})

t.test('memory: listened topics may exceed the bound; they are evicted once released', async (t) => {
  const broker = memoryBroker({ topics: 2 })
  const unlistens = await Promise.all(['a', 'b', 'c'].map((topic) => broker.listen(topic, new Recorder())))
  const epochs = await Promise.all(['a', 'b', 'c'].map(async (topic) => (await broker.read(topic)).epoch))
  unlistens[0]()
  t.not((await broker.read('a')).epoch, epochs[0], 'released over the bound: forgotten at once')
  t.equal((await broker.read('c')).epoch, epochs[2])
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

t.test('memory: options are validated', async (t) => {
  for (const history of [0, -1, 1.5, Number.NaN, '10']) {
    t.throws(() => memoryBroker({ history: history as number }), { code: 'SSE_ERR_INVALID_OPTION' }, `history ${String(history)}`)
  }
  t.throws(() => memoryBroker({ topics: 0 }), { code: 'SSE_ERR_INVALID_OPTION' })
  t.ok(memoryBroker({ history: 1, topics: 1 }))
})
