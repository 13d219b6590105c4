import t from 'tap'
import type { Redis } from 'ioredis'
import { NO_EPOCH, START } from '../../lib/broker/epoch.js'
import { topicKeys } from '../../lib/redis/keys.js'
import { nextTurn, warningsOf, watchProcess } from './process-watch.js'
import { Recorder, range } from './recorder.js'
import { fixture, listeningPair, whenRedis } from './redis-fixture.js'

// The Redis broker against what others may do to it: name any topic, write anything on its channel
// and in its keys.

async function keysOf (admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]))
  return keys.sort()
}

function hardeningTests (): void {
  t.test('redis: item 13: reading 10 000 topics never published, and listening to some, writes no key (topicTtl 0)', async (t) => {
    const { prefix, admin, make } = await fixture(t)
    const broker = make(undefined, { topicTtl: 0 })
    const names = range(1, 10_000).map((n) => `never:${n}`)
    let unlike = 0
    for (let i = 0; i < names.length; i += 500) {
      const reads = await Promise.all(names.slice(i, i + 500).map((topic, j) =>
        broker.read(topic, j % 2 === 0 ? START : undefined, j % 3 === 0 ? 10 : undefined)))
      unlike += reads.filter((read) => read.epoch !== NO_EPOCH || read.head !== 0 || !read.complete || read.closed).length
    }
    t.equal(unlike, 0, 'each reads as never published: NO_EPOCH, head 0, complete, open')
    const unlistens = await Promise.all(range(1, 100).map((n) => broker.listen(`listened:${n}`, new Recorder())))
    t.same(await keysOf(admin, prefix), [], 'SCAN finds no key of the prefix')
    for (const unlisten of unlistens) unlisten()

    await broker.publish('published', { data: 'x' })
    t.same(await keysOf(admin, prefix), topicKeys(prefix, 'published').keys.slice(0, 2).sort(), 'a publish does write the topic\'s keys')
  })

  t.test('redis: item 13: a listener on a topic never published gets its first event from another instance', async (t) => {
    const { prefix, admin, listening, publishing, recorder } = await listeningPair(t)
    t.same(await keysOf(admin, prefix), [], 'listening wrote no key')
    const first = await publishing.publish('room', { data: '1' })
    await publishing.publish('room', { data: '2' })
    await recorder.untilOffset(2)
    t.same(recorder.events.map((event) => [event.epoch, event.offset]), [[first.epoch, 1], [first.epoch, 2]])
    t.match(await listening.read('room', START), { epoch: first.epoch, complete: true, events: [{ offset: 1 }, { offset: 2 }] })
  })

  t.test('redis: item 4: garbage on the channel and in the keys is dropped and reported; the good events that follow come; no uncaught exception', async (t) => {
    const watch = watchProcess(t)
    const { prefix, admin, listening, publishing, recorder } = await listeningPair(t)
    const { epoch } = await publishing.publish('room', { data: '1' })
    await recorder.untilOffset(1)
    const { keys: [meta, stream], channel } = topicKeys(prefix, 'room')

    const garbage: Array<string | Buffer> = ['', 'x', 'hello', 'e', 'e:', `e${epoch}`, `e${epoch}:2`, `e${epoch}:two::x`,
      `e${epoch}:0::x`, `e${NO_EPOCH}:2::x`, 'ebad.epoch:2::x', `e${epoch}:2:9:short`, `e${epoch}:2:x:y`, `e${epoch}:2:data without colon`,
      'c5:ab', 'cno colon', Buffer.from([0x65, 0xff, 0xfe]), Buffer.concat([Buffer.from(`e${epoch}:2::`), Buffer.from([0xc3, 0x28])])]
    for (const message of garbage) await admin.publish(channel, message)
    await publishing.publish('room', { data: '2' })
    await recorder.untilOffset(2)

    // Entries someone else wrote in the stream, with the head moved past them.
    await admin.hset(meta, 'head', 5)
    await admin.xadd(stream, '3-0', 'p', 'no colon')
    await admin.xadd(stream, '4-0', 'q', ':wrong field')
    await admin.xadd(stream, '4-1', 'p', ':a sequence that is not ours')
    await admin.xadd(stream, '5-0', 'p', Buffer.from([0x3a, 0xff, 0xfe]))
    await publishing.publish('room', { data: '6' })
    await recorder.untilOffset(6)
    await publishing.publish('room', { data: '7' })
    await recorder.untilOffset(7)
    t.same(recorder.events.map((event) => [event.offset, event.data]), [[1, '1'], [2, '2'], [6, '6'], [7, '7']], 'the good events, in order')
    t.same(recorder.finals, [], 'no garbage closed the topic')

    t.match(await listening.read('room', { epoch, offset: 2 }), { complete: false, events: [] }, 'a read cannot resume across dropped entries')
    t.same((await listening.read('room', { epoch, offset: 5 })).events.map((event) => event.data), ['6', '7'], 'but can after them')
    await admin.set(topicKeys(prefix, 'other').keys[2], 'no colon')
    t.match(await listening.read('other'), { closed: true, final: undefined }, 'a tombstone whose final payload does not decode still closes')

    await nextTurn()
    t.same(watch.uncaught, [], 'no uncaught exception')
    const malformed = warningsOf(watch, 'SSE_WARN_MALFORMED')
    t.equal(malformed.filter((warning) => /channel/.test(warning.message)).length, garbage.length, 'each message on the channel reported once')
    t.ok(malformed.filter((warning) => /history entry/.test(warning.message)).length >= 4, 'the stream entries are reported')
    t.equal(malformed.filter((warning) => /final payload/.test(warning.message)).length, 1, 'and the final payload')
  })
}

await whenRedis(t, hardeningTests)
