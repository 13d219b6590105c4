import type { Test } from 'tap'
import { NO_EPOCH, START } from '../../lib/broker/epoch.js'
import type { TopicPosition } from '../../lib/broker/types.js'
import { type ContractSetup, EPOCH, publishMany } from './contract-kit.js'
import { Recorder, range } from './recorder.js'

// The broker contract, reads: positions, pages, the start position, the final payload.

export function readContract (t: Test, name: string, setup: ContractSetup): void {
  t.test(`${name}: read`, async (t) => {
    const { broker, instances } = await setup(t)
    const [{ epoch }] = await publishMany(instances, 'room', 3, 1)

    for (const instance of instances) {
      const all = await instance.read('room', { epoch, offset: 0 })
      t.match(all, { epoch, head: 3, complete: true, closed: false })
      t.same(all.events.map((event) => [event.topic, event.epoch, event.offset, event.data]),
        [['room', epoch, 1, '1'], ['room', epoch, 2, '2'], ['room', epoch, 3, '3']], 'from the start')
    }
    t.same((await broker.read('room', { epoch, offset: 2 })).events.map((event) => event.offset), [3], 'after a position')
    t.match(await broker.read('room', { epoch, offset: 3 }), { head: 3, events: [], complete: true }, 'at the head')
    t.match(await broker.read('room'), { epoch, head: 3, events: [], complete: true }, 'no position: the head only')
    t.match(await broker.read('room', { epoch: 'stale-epoch', offset: 1 }), { epoch, head: 3, events: [], complete: false }, 'another epoch')
    t.match(await broker.read('room', { epoch, offset: 4 }), { epoch, head: 3, events: [], complete: false }, 'past the head')
  })

  t.test(`${name}: the history is bounded; item 2 and item 13: past it, the start is incomplete and recent positions page`, async (t) => {
    const { broker, instances, history } = await setup(t)
    const [{ epoch }] = await publishMany(instances, 'room', history, 1)
    t.equal((await broker.read('room', { epoch, offset: 0 })).events.length, history, 'it keeps at least `history` events')
    t.match(await broker.read('room', START), { epoch, complete: true, events: { length: history } }, 'the start position too')

    // A broker may trim lazily (Redis trims whole stream nodes of 100 entries): publish well past it.
    const head = history * 3 + 200
    await publishMany(instances, 'room', head - history)
    t.match(await broker.read('room', { epoch, offset: 0 }), { head, events: [], complete: false }, 'the start is gone')
    t.match(await broker.read('room', START), { epoch, head, events: [], complete: false }, 'so is the start position')
    t.match(await broker.read('room', START, 10), { events: [], complete: false }, 'with a limit as well')
    t.match(await broker.read('room', { epoch, offset: 1 }), { complete: false })
    const recent = await broker.read('room', { epoch, offset: head - history })
    t.ok(recent.complete, 'the last `history` events are there')
    t.same(recent.events.map((event) => event.offset), range(head - history + 1, head))
    const page = await broker.read('room', { epoch, offset: head - history }, 7)
    t.match(page, { epoch, head, complete: true }, 'a page of them')
    t.same(page.events.map((event) => event.offset), range(head - history + 1, head - history + 7))
  })

  t.test(`${name}: item 2: read(topic, after, limit) pages through the history`, async (t) => {
    const { broker, instances } = await setup(t)
    const [{ epoch }] = await publishMany(instances, 'room', 25, 1)
    for (const instance of instances) {
      const pages: number[][] = []
      let after: TopicPosition = { epoch, offset: 0 }
      for (;;) {
        const page = await instance.read('room', after, 10)
        t.match(page, { epoch, head: 25, complete: true, closed: false })
        if (page.events.length === 0) break
        pages.push(page.events.map((event) => event.offset))
        after = page.events[page.events.length - 1]
      }
      t.same(pages, [range(1, 10), range(11, 20), range(21, 25)], 'at most `limit` events a page, each page after the last one')
    }
    t.same((await broker.read('room', START, 3)).events.map((event) => event.offset), [1, 2, 3], 'the start position pages too')
    t.same((await broker.read('room', { epoch, offset: 0 }, 1)).events.map((event) => event.data), ['1'])
    t.same((await broker.read('room', { epoch, offset: 20 }, 100)).events.map((event) => event.offset), range(21, 25), 'a limit past the head')
    t.same((await broker.read('room', { epoch, offset: 5 })).events.length, 20, 'no limit: no cap')
    t.match(await broker.read('room', undefined, 5), { epoch, head: 25, events: [], complete: true }, 'no position: no events, whatever the limit')
    t.match(await broker.read('room', { epoch: 'stale-epoch', offset: 0 }, 10), { events: [], complete: false }, 'another epoch')
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      await t.rejects(broker.read('room', { epoch, offset: 0 }, limit as number), { code: 'SSE_ERR_INVALID_OPTION' }, `limit ${String(limit)}`)
    }
  })

  t.test(`${name}: item 2: a closed topic's read carries the final payload closeTopic was given`, async (t) => {
    const { broker, other, instances } = await setup(t)
    const [{ epoch }] = await publishMany(instances, 'room', 2, 1)
    t.equal((await broker.read('room')).final, undefined, 'an open topic has none')
    await (other ?? broker).closeTopic('room', { event: 'bye', data: 'done' })
    for (const instance of instances) {
      const read = await instance.read('room', { epoch, offset: 0 }, 1)
      t.match(read, { epoch, head: 2, closed: true, complete: true, events: [{ offset: 1 }] })
      t.same(read.final, { event: 'bye', data: 'done' }, 'the final payload, with the history')
      t.same((await instance.read('room')).final, { event: 'bye', data: 'done' }, 'and without a position')
    }
    await broker.closeTopic('room', { data: 'again' })
    t.same((await broker.read('room')).final, { event: 'bye', data: 'done' }, 'closing again changes nothing')

    await broker.closeTopic('quiet')
    t.match(await broker.read('quiet'), { closed: true, final: undefined }, 'closed without a final payload')
    await broker.closeTopic('unnamed', { data: 'x' })
    t.same((await broker.read('unnamed')).final, { event: undefined, data: 'x' }, 'a final payload without an event name')
  })

  t.test(`${name}: item 13: a topic never published reads as NO_EPOCH, head 0; neither a read nor a listen gives it an epoch`, async (t) => {
    const { broker, other } = await setup(t)
    t.match(NO_EPOCH, EPOCH, 'NO_EPOCH fits the cursor syntax')
    t.equal(NO_EPOCH.length, 1)
    for (let i = 0; i < 2; i++) {
      const fresh = await broker.read('room')
      t.match(fresh, { epoch: NO_EPOCH, head: 0, events: [], complete: true, closed: false, final: undefined }, `read ${i + 1}`)
    }
    t.match(await broker.read('room', START), { epoch: NO_EPOCH, events: [], complete: true }, 'the start position resumes')
    t.match(await broker.read('room', START, 5), { epoch: NO_EPOCH, events: [], complete: true })
    t.match(await broker.read('room', { epoch: 'lost-epoch', offset: 3 }), { epoch: NO_EPOCH, complete: false }, 'a position of a lost incarnation does not')
    t.match(await broker.read('room', { epoch: NO_EPOCH, offset: 1 }), { complete: false }, 'nor one past the head')

    const recorder = new Recorder()
    await broker.listen('room', recorder)
    t.match(await broker.read('room'), { epoch: NO_EPOCH, head: 0 }, 'a listened topic has no epoch either')
    const first = await (other ?? broker).publish('room', { data: 'first' })
    t.not(first.epoch, NO_EPOCH, 'the first publish gives it one')
    t.match(first.epoch, EPOCH)
    t.ok(first.epoch.length >= 13, 'a real epoch is longer than NO_EPOCH')
    await recorder.untilOffset(1)
    t.same(recorder.events.map((event) => [event.epoch, event.offset]), [[first.epoch, 1]], 'the listener gets it')
    t.match(await broker.read('room'), { epoch: first.epoch, head: 1 })

    await broker.closeTopic('never')
    t.match(await broker.read('never'), { epoch: NO_EPOCH, head: 0, closed: true }, 'a closed topic never published has no epoch either')
  })

  t.test(`${name}: item 13: the start position resumes exactly against whatever epoch the topic gets`, async (t) => {
    const { broker, instances } = await setup(t)
    t.equal((await broker.read('room')).epoch, NO_EPOCH)
    const [{ epoch }] = await publishMany(instances, 'room', 4, 1)
    for (const instance of instances) {
      const read = await instance.read('room', START)
      t.match(read, { epoch, head: 4, complete: true }, 'complete against the new epoch')
      t.same(read.events.map((event) => [event.epoch, event.offset]), range(1, 4).map((offset) => [epoch, offset]), 'from offset 1')
    }
    t.same((await broker.read('room', START, 2)).events.map((event) => event.offset), [1, 2])
    await broker.closeTopic('room')
    t.match(await broker.read('room', START), { complete: true, closed: true, events: { length: 4 } }, 'a closed topic\'s history too')
  })
}
