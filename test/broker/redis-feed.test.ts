import t from 'tap'
import { NO_EPOCH, START } from '../../lib/broker/epoch.js'
import type { BrokerEvent, EventPayload, TopicPosition } from '../../lib/broker/types.js'
import { encodePayload } from '../../lib/redis/codec.js'
import { type FeedSource, TopicFeed, type TopicSnapshot } from '../../lib/redis/feed.js'
import { nextTurn, warningsOf, watchProcess } from './process-watch.js'
import { Recorder, range } from './recorder.js'

// The feed alone, without Redis: the test answers its reads, so the orders of events that a real
// connection only produces by chance can be played at will.

interface PendingRead {
  after: TopicPosition | undefined
  answer (snapshot: Partial<TopicSnapshot> & { head: number }): void
  fail (error: Error): void
}

class ScriptedSource implements FeedSource {
  readonly reads: PendingRead[] = []
  readonly failures: unknown[] = []
  closedCount = 0

  constructor (readonly epoch = 'e1') {}

  async subscribe (): Promise<void> {}

  read (after: TopicPosition | undefined): Promise<TopicSnapshot> {
    return new Promise((resolve, reject) => {
      this.reads.push({
        after,
        answer: (snapshot) => resolve({ epoch: this.epoch, events: [], closed: false, final: undefined, ...snapshot }),
        fail: reject
      })
    })
  }

  syncFailed (error: unknown): void {
    this.failures.push(error)
  }

  closed (): void {
    this.closedCount++
  }

  /** The read the feed is waiting on. */
  async pending (): Promise<PendingRead> {
    await flush()
    const read = this.reads.shift()
    if (read === undefined) throw new Error('the feed made no read')
    return read
  }
}

function flush (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function event (offset: number, epoch = 'e1'): BrokerEvent {
  return { topic: 'room', epoch, offset, event: undefined, data: String(offset) }
}

/** A Pub/Sub message as the publish script writes it. */
function message (offset: number, epoch = 'e1'): Buffer {
  return Buffer.from(`e${epoch}:${offset}:${encodePayload({ data: String(offset) })}`)
}

function closeMessage (final?: EventPayload): Buffer {
  return Buffer.from(`c${final === undefined ? '' : encodePayload(final)}`)
}

async function startedFeed (source: ScriptedSource, head: number, heldLimit = 100): Promise<{ feed: TopicFeed, recorder: Recorder }> {
  const feed = new TopicFeed('room', 'channel', source, heldLimit)
  const recorder = new Recorder()
  feed.fanout.add(recorder)
  const first = await source.pending()
  t.equal(first.after, undefined, 'the first sync reads the head only')
  first.answer({ head })
  await feed.ready
  return { feed, recorder }
}

t.test('redis feed: live events follow the head at listen time; duplicates are dropped', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 2)
  for (const offset of [2, 3, 3, 4]) feed.receive(message(offset))
  t.same(recorder.offsets, [3, 4])
  t.same(source.reads, [], 'no read while nothing is missing')
})

t.test('redis feed: events that arrive during the first sync are held, then let through once', async (t) => {
  const source = new ScriptedSource()
  const feed = new TopicFeed('room', 'channel', source, 100)
  const recorder = new Recorder()
  feed.fanout.add(recorder)
  const first = await source.pending()
  for (const offset of [5, 6, 7]) feed.receive(message(offset))
  first.answer({ head: 5 })
  await feed.ready
  t.same(recorder.offsets, [6, 7])
})

t.test('redis feed: a gap is filled from the stream before the held events', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 1)
  feed.receive(message(4))
  feed.receive(message(5))
  const read = await source.pending()
  t.match(read.after, { epoch: 'e1', offset: 1 })
  read.answer({ head: 4, events: [event(2), event(3), event(4)] })
  await flush()
  t.same(recorder.offsets, [2, 3, 4, 5])
  feed.receive(message(6))
  t.same(recorder.offsets, [2, 3, 4, 5, 6], 'live again')
})

t.test('redis feed: too many held events are dropped and read again', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 0, 2)
  for (const offset of [2, 3, 4, 5, 6]) feed.receive(message(offset))
  const read = await source.pending()
  read.answer({ head: 3, events: [event(1), event(2), event(3)] })
  const again = await source.pending()
  t.match(again.after, { epoch: 'e1', offset: 3 }, 'the overflow asks for another read')
  again.answer({ head: 6, events: [event(4), event(5), event(6)] })
  await flush()
  t.same(recorder.offsets, range(1, 6))
})

t.test('redis feed: events the stream lost are skipped, not waited for', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 1)
  feed.receive(message(9))
  ;(await source.pending()).answer({ head: 8, events: [event(7), event(8)] })
  await flush()
  t.same(recorder.offsets, [7, 8, 9])
  feed.receive(message(12))
  ;(await source.pending()).answer({ head: 12 })
  await flush()
  t.same(recorder.offsets, [7, 8, 9], 'nothing left to deliver')
  feed.receive(message(13))
  t.same(recorder.offsets, [7, 8, 9, 13], 'the feed followed the head')
})

t.test('redis feed: a close that arrives during a sync comes after the missing events', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 1)
  feed.receive(message(3))
  const read = await source.pending()
  feed.receive(closeMessage({ event: 'end', data: 'bye' }))
  read.answer({ head: 3, events: [event(2), event(3)] })
  const again = await source.pending()
  again.answer({ head: 3, closed: true, final: { event: 'end', data: 'bye' } })
  await flush()
  t.same(recorder.offsets, [2, 3])
  t.same(recorder.finals, [{ event: 'end', data: 'bye' }])
  t.equal(source.closedCount, 1, 'the broker forgets the feed')
})

t.test('redis feed: a live close goes out at once', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 0)
  feed.receive(message(1))
  feed.receive(closeMessage())
  t.same(recorder.offsets, [1])
  t.same(recorder.finals, [undefined])
})

t.test('redis feed: listening to a closed topic tells nothing; a later catch-up does not either', async (t) => {
  const source = new ScriptedSource()
  const feed = new TopicFeed('room', 'channel', source, 100)
  const recorder = new Recorder()
  feed.fanout.add(recorder)
  ;(await source.pending()).answer({ head: 2, closed: true })
  await feed.ready
  const catchUp = feed.sync()
  ;(await source.pending()).answer({ head: 2, closed: true })
  await catchUp
  t.same(recorder.finals, [])
})

t.test('redis feed: a failed sync holds events until the broker syncs again', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 0)
  feed.receive(message(2))
  ;(await source.pending()).fail(new Error('down'))
  await flush()
  t.equal(source.failures.length, 1, 'the broker is told')
  feed.receive(message(3))
  t.same(recorder.offsets, [], 'held')
  const retry = feed.sync()
  ;(await source.pending()).answer({ head: 3, events: [event(1), event(2), event(3)] })
  await retry
  feed.receive(message(4))
  t.same(recorder.offsets, [1, 2, 3, 4])
})

t.test('redis feed: a new epoch is read from its start', async (t) => {
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 5)
  feed.receive(message(2, 'e2'))
  const read = await source.pending()
  t.match(read.after, { epoch: 'e1', offset: 5 })
  read.answer({ epoch: 'e2', head: 2 })
  const fromStart = await source.pending()
  t.match(fromStart.after, { epoch: 'e2', offset: 0 })
  fromStart.answer({ epoch: 'e2', head: 2, events: [event(1, 'e2'), event(2, 'e2')] })
  await flush()
  t.same(recorder.events.map((event) => [event.epoch, event.offset]), [['e2', 1], ['e2', 2]])
})

t.test('redis feed: item 13: a feed that found no epoch takes the first event of any epoch at offset 1, without a read', async (t) => {
  const source = new ScriptedSource(NO_EPOCH)
  const { feed, recorder } = await startedFeed(source, 0)
  feed.receive(message(1, 'e7'))
  feed.receive(message(2, 'e7'))
  t.same(recorder.events.map((event) => [event.epoch, event.offset]), [['e7', 1], ['e7', 2]])
  t.same(source.reads, [], 'no read')
  feed.receive(message(2, 'e8'))
  t.match((await source.pending()).after, { epoch: 'e7', offset: 2 }, 'from then on, it follows that epoch')
})

t.test('redis feed: item 13: an event held during the first sync that found no epoch is let through', async (t) => {
  const source = new ScriptedSource(NO_EPOCH)
  const feed = new TopicFeed('room', 'channel', source, 100)
  const recorder = new Recorder()
  feed.fanout.add(recorder)
  const first = await source.pending()
  feed.receive(message(1, 'e7'))
  first.answer({ head: 0 })
  await feed.ready
  t.same(recorder.offsets, [1])
  t.same(source.reads, [])
})

t.test('redis feed: item 13: a catch-up from the start delivers the new epoch from offset 1 in one read', async (t) => {
  const source = new ScriptedSource(NO_EPOCH)
  const { feed, recorder } = await startedFeed(source, 0)
  const catchUp = feed.sync()
  const read = await source.pending()
  t.same(read.after, START, 'it reads from the start position')
  read.answer({ epoch: 'e7', head: 2, events: [event(1, 'e7'), event(2, 'e7')] })
  await catchUp
  t.same(recorder.events.map((event) => [event.epoch, event.offset]), [['e7', 1], ['e7', 2]])
  t.same(source.reads, [], 'no second read')
  feed.receive(message(3, 'e7'))
  t.same(recorder.offsets, [1, 2, 3], 'live again')
})

t.test('redis feed: item 4: a message that does not decode is dropped and reported, never thrown; the feed goes on', async (t) => {
  const watch = watchProcess(t)
  const source = new ScriptedSource()
  const { feed, recorder } = await startedFeed(source, 0)
  const garbage = ['', 'z', 'ee1:1', 'ee1:x::x', 'ee1:-1::x', 'ee1:1:3:ab', 'cx', `e${NO_EPOCH}:1::x`]
  for (const bytes of garbage) t.doesNotThrow(() => feed.receive(Buffer.from(bytes)), JSON.stringify(bytes))
  feed.receive(Buffer.from([0x65, 0x65, 0x31, 0x3a, 0x31, 0x3a, 0x3a, 0xff]))
  feed.receive(message(1))
  feed.receive(message(2))
  t.same(recorder.offsets, [1, 2], 'the good events that follow are delivered')
  t.same(recorder.finals, [], 'nothing closed the topic')
  t.same(source.reads, [], 'and nothing asked for a read')
  await nextTurn()
  t.equal(warningsOf(watch, 'SSE_WARN_MALFORMED').length, garbage.length + 1, 'each one reported')
  t.same(watch.uncaught, [])
})
