import type { Test } from 'tap'
import { type Broker, type ChunkedHandler, Event, isPublished, type Published, topics } from '../../lib/index.js'
import { startApp } from './app.js'
import { stuckClient } from './stuck-client.js'
import { type CountingStream, countEvents, eventually, openStream, type TestStream } from './stream.js'

/** A fresh broker for one test; `cleanup` removes whatever it left behind (keys, connections). */
export type BrokerFactory = () => Promise<{ broker: Broker, cleanup (): Promise<void> }>

/** The topics and resume behaviour of the plugin, the same on every broker. */
export function topicsSuite (t: Test, makeBroker: BrokerFactory): void {
  async function appWith (t: Test, routes: Parameters<typeof startApp>[2]) {
    const { broker, cleanup } = await makeBroker()
    t.teardown(cleanup)
    return startApp(t, { broker, heartbeat: false }, routes)
  }

  const seq = (stream: TestStream, topic?: string): number[] =>
    stream.events.filter((e) => e.event !== 'reset' && (topic === undefined || JSON.parse(e.data).topic === topic)).map((e) => JSON.parse(e.data).n)

  t.test('topics() relays what is published; ids are cursors; a reconnect resumes exactly', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get<{ Params: { room: string } }>('/rooms/:room', { chunk: true, handler: topics((req) => [`room:${req.params.room}`]) })
    })
    const first = await openStream(`${url}/rooms/a`)
    await eventually(() => app.sse.connections === 1)
    for (let n = 1; n <= 3; n++) await app.sse.publish('room:a', { n }, { event: 'message' })
    await app.sse.publish('room:b', { n: 99 })
    await first.waitFor(3)
    t.same(seq(first), [1, 2, 3])
    t.same(first.events.map((e) => e.event), ['message', 'message', 'message'])
    const lastId = first.events[2].id!
    t.match(lastId, /^room%3Aa=[A-Za-z0-9_-]+\.3$/)
    first.close()
    await eventually(() => app.sse.connections === 0)
    for (let n = 4; n <= 6; n++) await app.sse.publish('room:a', { n })
    const second = await openStream(`${url}/rooms/a`, { headers: { 'last-event-id': lastId } })
    await second.waitFor(3)
    await app.sse.publish('room:a', { n: 7 })
    await second.waitFor(4)
    t.same(seq(second), [4, 5, 6, 7])
    t.equal(app.sse.stats().replays, 1)
    second.close()
  })

  t.test('a stream subscribed to several topics resumes each one', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get('/both', { chunk: true, handler: topics(async () => ['x', 'y']) })
    })
    const first = await openStream(`${url}/both`)
    await eventually(() => app.sse.connections === 1)
    await app.sse.publish('x', { topic: 'x', n: 1 })
    await app.sse.publish('y', { topic: 'y', n: 1 })
    await first.waitFor(2)
    const id = first.events[1].id!
    t.match(id, /^x=[\w-]+\.1&y=[\w-]+\.1$/)
    first.close()
    await eventually(() => app.sse.connections === 0)
    await app.sse.publish('y', { topic: 'y', n: 2 })
    await app.sse.publish('x', { topic: 'x', n: 2 })
    await app.sse.publish('x', { topic: 'x', n: 3 })
    const second = await openStream(`${url}/both`, { headers: { 'last-event-id': id } })
    await second.waitFor(3)
    t.same(seq(second, 'x'), [2, 3])
    t.same(seq(second, 'y'), [2])
    second.close()
  })

  t.test('resume is exact under concurrent publishes, through a filtering handler too', async (t) => {
    // Drops odd numbers: the cursor still moves past them, so a reconnect never sees them again.
    const Evens: ChunkedHandler<unknown, Published> = {
      init: (token) => token.subscribe('busy'),
      handle: (msg) => isPublished(msg) && JSON.parse(msg.event.data!).n % 2 === 0 ? msg.event : undefined
    }
    const { app, url } = await appWith(t, (app) => {
      app.get('/all', { chunk: true, handler: topics(() => ['busy']) })
      app.get('/evens', { chunk: true, handler: Evens })
    })
    const total = 400
    let published = 0
    const publisher = (async () => {
      while (published < total) {
        await app.sse.publish('busy', { n: ++published })
        if (published % 5 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const finished = publisher.then(() => true)
    const clients = ['/all', '/evens'].map(async (path) => {
      const received: number[] = []
      let lastId: string | undefined
      // Reconnect every few events while the publisher runs.
      while (published < total) {
        const stream = await openStream(url + path, { headers: lastId === undefined ? {} : { 'last-event-id': lastId } })
        await Promise.race([stream.waitFor(7).catch(() => {}), finished])
        stream.close()
        received.push(...seq(stream))
        lastId = stream.events.at(-1)?.id ?? lastId
      }
      // Then once more, until a last event published after everything else arrives.
      const stream = await openStream(url + path, { headers: lastId === undefined ? {} : { 'last-event-id': lastId } })
      return { path, received, stream }
    })
    const ends = await Promise.all(clients)
    await eventually(() => app.sse.connections === 2)
    await app.sse.publish('busy', { n: total + 2 })
    for (const { path, received, stream } of ends) {
      await eventually(() => seq(stream).includes(total + 2))
      stream.close()
      received.push(...seq(stream))
      const expected = Array.from({ length: total + 2 }, (_, i) => i + 1).filter((n) => n !== total + 1 && (path === '/all' || n % 2 === 0))
      t.same(received, expected.slice(expected.indexOf(received[0])), `${path}: no duplicate, no gap`)
    }
  })

  t.test('unsubscribe stops a topic and drops it from the cursor', async (t) => {
    const Switcher: ChunkedHandler<unknown, Published | 'leave'> = {
      async init (token) {
        await token.subscribe('keep')
        await token.subscribe('drop')
      },
      async handle (msg, token) {
        if (msg === 'leave') return token.unsubscribe('drop')
        return msg.event
      }
    }
    let streamId = ''
    const { app, url } = await appWith(t, (app) => {
      app.get('/switch', { chunk: true, handler: { ...Switcher, init: async (token) => { streamId = token.id; await Switcher.init!(token) } } })
    })
    const stream = await openStream(`${url}/switch`)
    await eventually(() => app.sse.connections === 1)
    await app.sse.publish('drop', { topic: 'drop', n: 1 })
    await stream.waitFor(1)
    t.match(stream.events[0].id, /^drop=[\w-]+\.1&keep=[\w-]+\.0$/)
    app.sse.notify(streamId, 'leave')
    await app.sse.publish('drop', { topic: 'drop', n: 2 })
    await app.sse.publish('keep', { topic: 'keep', n: 1 })
    await stream.waitFor(2)
    t.same(stream.events.map((e) => JSON.parse(e.data)), [{ topic: 'drop', n: 1 }, { topic: 'keep', n: 1 }])
    t.match(stream.events[1].id, /^keep=[\w-]+\.1$/, 'the cursor no longer holds the topic left')
    stream.close()
  })

  t.test('a stream may subscribe after it opened: its cursor gains the topic at once', async (t) => {
    let streamId = ''
    const { app, url } = await appWith(t, (app) => {
      app.get('/late', {
        chunk: true,
        handler: {
          init (token) { streamId = token.id },
          async handle (msg: Published | 'join', token) {
            if (msg === 'join') return token.subscribe('later')
            return msg.event
          }
        }
      })
    })
    await app.sse.publish('later', { n: 1 })
    const stream = await openStream(`${url}/late`)
    await eventually(() => streamId !== '')
    app.sse.notify(streamId, 'join')
    await eventually(() => /id: later=[\w-]+\.1\n\n/.test(stream.text()))
    await app.sse.publish('later', { n: 2 })
    await stream.waitFor(1)
    t.same(stream.events.map((e) => JSON.parse(e.data).n), [2], 'live from the head: nothing before it is replayed')
    t.match(stream.events[0].id, /^later=[\w-]+\.2$/)
    stream.close()
  })

  t.test('an id-only block carries the cursor when nothing else is written', async (t) => {
    const Silent: ChunkedHandler<unknown, Published> = { init: (token) => token.subscribe('quiet'), handle: () => undefined }
    const { app, url } = await appWith(t, (app) => {
      app.get('/silent', { chunk: true, handler: Silent })
    })
    const stream = await openStream(`${url}/silent`)
    await eventually(() => /id: quiet=[\w-]+\.0\n\n/.test(stream.text()))
    await app.sse.publish('quiet', 'one')
    await eventually(() => /id: quiet=[\w-]+\.1\n\n/.test(stream.text()))
    t.same(stream.events, [], 'no event dispatched')
    stream.close()
  })

  t.test('unknown, malformed, stale or too old ids get event: reset first', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get('/r', { chunk: true, handler: topics(() => ['r']) })
    })
    await app.sse.publish('r', { n: 1 })
    for (const id of ['garbage', 'r=nosuchepoch.1', 'x'.repeat(5000), 'r=e.abc']) {
      const stream = await openStream(`${url}/r`, { headers: { 'last-event-id': id } })
      await stream.waitFor(1)
      t.equal(stream.events[0].event, 'reset', id.slice(0, 20))
      t.equal(stream.events[0].data, 'r')
      await app.sse.publish('r', { n: 2 })
      await stream.waitFor(2)
      t.equal(stream.events[1].event, undefined, 'then live')
      stream.close()
    }
    t.equal(app.sse.stats().resets, 4)
  })

  t.test('closeTopic ends the streams with a final event and leaves a tombstone: a reconnect gets 204', async (t) => {
    const reasons: string[] = []
    const { app, url } = await appWith(t, (app) => {
      app.get('/c', { chunk: true, handler: { ...topics(() => ['closing']), terminate: (reason) => { reasons.push(reason) } } })
    })
    const streams = await Promise.all([openStream(`${url}/c`), openStream(`${url}/c`)])
    await eventually(() => app.sse.connections === 2)
    await app.sse.closeTopic('closing', new Event({ event: 'done', data: 'bye' }))
    await Promise.all(streams.map((s) => s.ended))
    t.same(streams.map((s) => s.events.map((e) => e.event)), [['done'], ['done']])
    t.same(reasons, ['topic-closed', 'topic-closed'])
    const again = await openStream(`${url}/c`)
    t.equal(again.status, 204)
    await t.rejects(app.sse.publish('closing', 'late'), { code: 'SSE_ERR_TOPIC_CLOSED' })
  })

  t.test('topics() may refuse before the stream opens; publish validates', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get('/secret', { chunk: true, handler: topics(async () => { throw Object.assign(new Error('forbidden'), { statusCode: 403 }) }) })
      app.get('/bad', { chunk: true, handler: topics(() => 'not-an-array' as never) })
      app.get('/own-id', { chunk: true, handler: { init: (token) => token.subscribe('i'), handle: () => new Event({ data: 'x', id: 'mine' }), handleError: () => {} } })
    })
    const refused = await openStream(`${url}/secret`)
    t.equal(refused.status, 403)
    const bad = await openStream(`${url}/bad`)
    t.equal(bad.status, 500)
    await t.rejects(app.sse.publish('t', new Event({ data: 'x', id: 'no' })), { code: 'SSE_ERR_ID_RESERVED' })
    await t.rejects(app.sse.publish('t', 'x', { event: 'a\nb' }), { code: 'SSE_ERR_INVALID_FIELD' })
    const ownId = await openStream(`${url}/own-id`)
    await eventually(() => app.sse.connections === 1)
    await app.sse.publish('i', 'x')
    await ownId.ended
    t.same(ownId.events, [], 'an Event with its own id on a topic stream is SSE_ERR_ID_RESERVED: the stream ends')
  })

  t.test('an event is encoded once per publish, whatever the number of subscribers, relayed or handled', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get('/fan', { chunk: true, handler: topics(() => ['fan']) })
      app.get('/fan-handle', { chunk: true, handler: { init: (token) => token.subscribe('fan'), handle: (msg: Published) => msg.event } })
    })
    const streams = await Promise.all(Array.from({ length: 50 }, (_, i) => openStream(`${url}/${i % 2 === 0 ? 'fan' : 'fan-handle'}`)))
    await eventually(() => app.sse.connections === 50)
    const original = Event.prototype.text
    let encodings = 0
    Event.prototype.text = function (this: Event, id?: string) { encodings++; return original.call(this, id) }
    t.teardown(() => { Event.prototype.text = original })
    for (let n = 1; n <= 10; n++) await app.sse.publish('fan', { n })
    await Promise.all(streams.map((s) => s.waitFor(10)))
    t.equal(encodings, 10)
    t.ok(streams.every((s) => seq(s).join() === '1,2,3,4,5,6,7,8,9,10'))
    for (const s of streams) s.close()
  })

  t.test('1,000 subscribers on one topic with one that never reads: it alone is cut, the others get every event', async (t) => {
    const { app, url } = await appWith(t, (app) => {
      app.get('/wide', { chunk: { highWaterMark: 16 * 1024, mailbox: { limit: 64 } }, handler: topics(() => ['wide']) })
    })
    const stuck = await stuckClient(url, '/wide')
    t.teardown(() => stuck.kill())
    const readers: CountingStream[] = []
    for (let batch = 0; batch < 20; batch++) readers.push(...await Promise.all(Array.from({ length: 50 }, () => countEvents(`${url}/wide`))))
    await eventually(() => app.sse.connections === 1001)
    // Big events: the stuck socket's kernel buffers (megabytes on loopback) fill in a few dozen.
    const payload = 'p'.repeat(64 * 1024)
    let n = 0
    while (app.sse.stats().overflowDisconnects === 0 && n < 200) {
      await app.sse.publish('wide', { n: ++n, payload })
      await new Promise((resolve) => setImmediate(resolve))
    }
    t.equal(app.sse.stats().overflowDisconnects, 1, 'only the stuck stream was cut')
    t.equal(app.sse.connections, 1000)
    // Each reader counts the id-only block written when it subscribed, then every event.
    await eventually(() => readers.every((r) => r.count() === n + 1), 3000)
    t.pass('every reader got every event')
    for (const r of readers) r.close()
  })
}
