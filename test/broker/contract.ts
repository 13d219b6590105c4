import type { Test } from 'tap'
import type { Broker, TopicPosition } from '../../lib/broker/types.js'
import { type BrokerFixture, contractSetup, EPOCH, publishMany } from './contract-kit.js'
import { readContract } from './contract-read.js'
import { nextTurn, warningsOf, watchProcess } from './process-watch.js'
import { Recorder, range } from './recorder.js'

// The broker contract (DESIGN.md principle 6): written against the Broker interface only, so the
// memory and the Redis broker pass the very same tests. Reads are in contract-read.ts.

export type { BrokerFixture } from './contract-kit.js'

export function brokerContract (t: Test, name: string, factory: () => Promise<BrokerFixture>): void {
  const setup = contractSetup(factory)
  readContract(t, name, setup)

  /** Resolves once everything `broker` delivered before it is in its listeners' hands. */
  const settle = async (broker: Broker, via: Broker = broker): Promise<void> => {
    const marker = new Recorder()
    const unlisten = await broker.listen('settle', marker)
    await via.publish('settle', { data: 'marker' })
    await marker.untilOffset(1)
    unlisten()
  }

  t.test(`${name}: offsets are contiguous per topic, in one epoch`, async (t) => {
    const { broker, instances } = await setup(t)
    const first = await broker.publish('room', { data: 'one' })
    const second = await broker.publish('room', { event: 'named', data: 'two' })
    const elsewhere = await broker.publish('hall', { data: 'x' })
    t.match(first, { topic: 'room', offset: 1, data: 'one', event: undefined })
    t.match(second, { topic: 'room', offset: 2, event: 'named', data: 'two', epoch: first.epoch })
    t.equal(elsewhere.offset, 1, 'another topic counts on its own')
    t.match(first.epoch, EPOCH, 'the epoch fits the cursor format')

    const burst = await publishMany(instances, 'room', 60)
    t.same(burst.map((event) => event.offset).sort((a, b) => a - b), range(3, 62), 'concurrent publishes get distinct, contiguous offsets')
    t.ok(burst.every((event) => event.epoch === first.epoch))
    const read = await broker.read('room')
    t.match(read, { epoch: first.epoch, head: 62, events: [], complete: true, closed: false })
  })

  t.test(`${name}: listeners get every event in publish order, each offset once`, async (t) => {
    const { broker, instances } = await setup(t)
    const recorder = new Recorder()
    await broker.listen('room', recorder)
    const published = await publishMany(instances, 'room', 200)
    await recorder.untilOffset(200)
    t.same(recorder.offsets, range(1, 200))
    const dataByOffset = new Map(published.map((event) => [event.offset, event.data]))
    t.ok(recorder.events.every((event) => event.data === dataByOffset.get(event.offset) && event.topic === 'room'), 'each event carries its own payload')
  })

  t.test(`${name}: listen, then read, then dedup by offset: every event exactly once under concurrent publishes`, async (t) => {
    const { broker, instances } = await setup(t)
    const count = 300
    for (const turns of [0, 1, 2, 5, 20]) {
      const topic = `race:${turns}`
      const start: TopicPosition = { epoch: (await broker.read(topic)).epoch, offset: 0 }
      const publishing = publishMany(instances, topic, count)
      // Join while the publishes run, at a different point for each topic.
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
      const recorder = new Recorder()
      await broker.listen(topic, recorder)
      const read = await broker.read(topic, start)
      await publishing
      if (read.head < count) await recorder.untilOffset(count)

      t.ok(read.complete, `${topic}: the read covers the start`)
      t.same(read.events.map((event) => event.offset), range(1, read.head), `${topic}: the read is contiguous`)
      const live = recorder.offsets
      t.same(live, range(live[0] ?? count + 1, count), `${topic}: the live events are contiguous and in order`)
      t.ok((live[0] ?? count + 1) <= read.head + 1, `${topic}: no gap between the read and the live events`)
      const seen = new Set([...read.events.map((event) => event.offset), ...live])
      t.same([...seen].sort((a, b) => a - b), range(1, count), `${topic}: after dedup, every offset once`)
    }
  })

  t.test(`${name}: closeTopic leaves a tombstone and tells every listener`, async (t) => {
    const { broker, other, instances } = await setup(t)
    const recorders = instances.map(() => new Recorder())
    const unlistens = await Promise.all(instances.map((instance, i) => instance.listen('room', recorders[i])))
    await publishMany(instances, 'room', 2, 1)
    await (other ?? broker).closeTopic('room', { event: 'bye', data: 'done' })
    for (const recorder of recorders) {
      await recorder.untilClosed()
      t.same(recorder.offsets, [1, 2], 'the events came before the close')
      t.same(recorder.finals, [{ event: 'bye', data: 'done' }], 'with the final payload')
    }
    const { epoch } = await broker.read('room')
    for (const instance of instances) {
      t.match(await instance.read('room', { epoch, offset: 0 }), { head: 2, closed: true, complete: true, events: [{ offset: 1 }, { offset: 2 }] }, 'the history stays readable')
      await t.rejects(instance.publish('room', { data: 'late' }), { code: 'SSE_ERR_TOPIC_CLOSED' })
    }
    await broker.closeTopic('room', { data: 'again' })
    await settle(broker, other)
    t.equal(recorders[0].finals.length, 1, 'closing again tells nobody twice')
    for (const unlisten of unlistens) unlisten()

    const plain = new Recorder()
    await broker.listen('quiet', plain)
    await broker.closeTopic('quiet')
    await plain.untilClosed()
    t.same(plain.finals, [undefined], 'without a final payload')
    t.match(await broker.read('quiet'), { head: 0, closed: true })
  })

  t.test(`${name}: unlisten stops delivery`, async (t) => {
    const { broker, other } = await setup(t)
    const publisher = other ?? broker
    const leaving = new Recorder()
    const staying = new Recorder()
    const unlisten = await broker.listen('room', leaving)
    await broker.listen('room', staying)
    await publisher.publish('room', { data: '1' })
    await leaving.untilOffset(1)
    unlisten()
    unlisten()
    await publisher.publish('room', { data: '2' })
    await staying.untilOffset(2)
    t.same(leaving.offsets, [1], 'the listener that left got nothing more')
    t.same(staying.offsets, [1, 2], 'the one that stayed goes on')

    // The topic's last listener leaves, then a new one comes.
    const again = new Recorder()
    const unlistenStaying = await broker.listen('room', staying)
    unlistenStaying()
    await broker.listen('room', again)
    await publisher.publish('room', { data: '3' })
    await again.untilOffset(3)
    t.same(again.offsets, [3])
  })

  t.test(`${name}: topics are independent`, async (t) => {
    const { broker, other } = await setup(t)
    const publisher = other ?? broker
    const a = new Recorder()
    const b = new Recorder()
    await broker.listen('a', a)
    await broker.listen('b', b)
    for (const topic of ['a', 'b', 'a', 'a', 'b']) await publisher.publish(topic, { data: topic })
    await publisher.closeTopic('a')
    await publisher.publish('b', { data: 'b' })
    await b.untilOffset(3)
    await a.untilClosed()
    t.same(a.offsets, [1, 2, 3])
    t.same(b.offsets, [1, 2, 3])
    t.ok([...a.events, ...b.events].every((event) => event.data === event.topic), 'no event crossed over')
    t.same(b.finals, [], 'closing a topic leaves the others open')
    t.equal((await broker.read('b')).closed, false)
  })

  t.test(`${name}: topic names with odd characters`, async (t) => {
    const { broker, other } = await setup(t)
    const publisher = other ?? broker
    const names = ['a:b', 'a/b', 'with space', 'ünï cödé 🎉', '{tag}', '}{', 'a{b}c', 'a b', 'a%20b', 'a+b', '%', '=&.', 'line\nbreak']
    const recorders = names.map(() => new Recorder())
    await Promise.all(names.map((topic, i) => broker.listen(topic, recorders[i])))
    for (const topic of names) await publisher.publish(topic, { event: topic, data: topic })
    for (const [i, topic] of names.entries()) {
      await recorders[i].untilOffset(1)
      t.match(recorders[i].events, [{ topic, offset: 1, event: topic, data: topic }], `${JSON.stringify(topic)} is a topic of its own`)
      const { epoch } = await broker.read(topic)
      t.match((await broker.read(topic, { epoch, offset: 0 })).events, [{ topic, data: topic }])
      await publisher.closeTopic(topic)
      await recorders[i].untilClosed()
      t.equal((await broker.read(topic)).closed, true)
    }
  })

  t.test(`${name}: invalid topics are refused`, async (t) => {
    const { broker } = await setup(t)
    for (const topic of ['', '\uD800 lone surrogate']) {
      const code = 'SSE_ERR_INVALID_TOPIC'
      await t.rejects(broker.publish(topic, { data: 'x' }), { code })
      await t.rejects(broker.listen(topic, new Recorder()), { code })
      await t.rejects(broker.read(topic), { code })
      await t.rejects(broker.closeTopic(topic), { code })
    }
  })

  t.test(`${name}: payloads come back as they were published`, async (t) => {
    const { broker, other } = await setup(t)
    const publisher = other ?? broker
    const recorder = new Recorder()
    await broker.listen('room', recorder)
    const payloads = [
      { data: '' },
      { event: '', data: '' },
      { event: 'ünïcödé', data: '{"a":"ß🎉"}\nsecond line' },
      { event: '5:abc', data: ':5:x' },
      { data: 'x'.repeat(100_000) }
    ]
    for (const payload of payloads) await publisher.publish('room', payload)
    await recorder.untilOffset(payloads.length)
    const { epoch } = await broker.read('room')
    const read = await broker.read('room', { epoch, offset: 0 })
    for (const [i, payload] of payloads.entries()) {
      const expected = { event: payload.event, data: payload.data }
      t.same({ event: recorder.events[i].event, data: recorder.events[i].data }, expected, `live ${i}`)
      t.same({ event: read.events[i].event, data: read.events[i].data }, expected, `read ${i}`)
    }
  })

  t.test(`${name}: a listener may publish from its callback`, async (t) => {
    const { broker } = await setup(t)
    const recorder = new Recorder()
    await broker.listen('room', {
      event (event) {
        if (event.data === 'ping') broker.publish('room', { data: 'pong' }).catch(t.error)
      },
      closed () {}
    })
    await broker.listen('room', recorder)
    await broker.publish('room', { data: 'ping' })
    await recorder.untilOffset(2)
    t.same(recorder.events.map((event) => [event.offset, event.data]), [[1, 'ping'], [2, 'pong']], 'the later listener still sees publish order')
  })

  t.test(`${name}: item 1: a listener that throws is reported as a warning, never an uncaught exception`, async (t) => {
    const { broker } = await setup(t)
    const watch = watchProcess(t)
    const failure = new Error('listener bug')
    // eslint-disable-next-line no-throw-literal -- a listener that throws a non-Error must not crash either
    const listener = { event () { throw failure }, closed () { throw 'not even an Error' } }
    const recorder = new Recorder()
    await broker.listen('room', listener)
    await broker.listen('room', recorder)
    await broker.publish('room', { data: '1' })
    await broker.publish('room', { data: '2' })
    await broker.closeTopic('room')
    await recorder.untilClosed()
    await nextTurn()
    t.same(recorder.offsets, [1, 2], 'the other listener got every event')
    t.same(recorder.finals, [undefined], 'and the close')
    t.same(watch.uncaught, [], 'no uncaught exception')
    const reported = warningsOf(watch, 'SSE_WARN_LISTENER_THREW')
    t.same(reported.map((warning) => warning.cause), [failure, failure, 'not even an Error'], 'each error is reported once, as the cause of a warning')
    t.match(reported[0], { name: 'SseBrokerWarning', message: /"room".*listener bug/ })
  })

  t.test(`${name}: close() releases everything`, async (t) => {
    const { broker, other } = await setup(t)
    const recorder = new Recorder()
    const unlisten = await broker.listen('room', recorder)
    await broker.publish('room', { data: '1' })
    await recorder.untilOffset(1)
    await broker.close()
    await broker.close()
    unlisten()
    const code = 'SSE_ERR_BROKER_CLOSED'
    await t.rejects(broker.publish('room', { data: 'x' }), { code })
    await t.rejects(broker.listen('room', new Recorder()), { code })
    await t.rejects(broker.read('room'), { code })
    await t.rejects(broker.closeTopic('room'), { code })
    if (other !== undefined) {
      const witness = new Recorder()
      await other.listen('room', witness)
      await other.publish('room', { data: '2' })
      await witness.untilOffset(2)
      t.same(recorder.offsets, [1], 'a closed instance delivers nothing more, the other goes on')
    }
  })

  t.test(`${name}: instances share topics`, async (t) => {
    const { broker, other } = await setup(t)
    if (other === undefined) {
      t.pass('a single instance: nothing to share')
      return
    }
    const here = new Recorder()
    const there = new Recorder()
    await broker.listen('room', here)
    await other.listen('room', there)
    await broker.publish('room', { data: 'from here' })
    await other.publish('room', { data: 'from there' })
    await here.untilOffset(2)
    await there.untilOffset(2)
    t.same(here.events, there.events, 'both instances deliver the same events')
    const { epoch } = await broker.read('room')
    t.same(await broker.read('room', { epoch, offset: 0 }), await other.read('room', { epoch, offset: 0 }), 'and read the same history')
    await other.closeTopic('room', { data: 'bye' })
    await here.untilClosed()
    t.same(here.finals, [{ data: 'bye', event: undefined }])
    t.equal((await broker.read('room')).closed, true, 'and see the same tombstone')
  })
}
