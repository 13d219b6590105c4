import type { Test } from 'tap'
import { type ChunkedHandler, Event, isPublished, type Published, topics } from '../../lib/index.js'
import { startApp } from './app.js'
import { eventually, openStream, type TestStream } from './stream.js'
import type { BrokerFactory } from './topics-suite.js'

const numbers = (stream: TestStream): number[] =>
  stream.events.filter((e) => e.event !== 'reset').map((e) => JSON.parse(e.data).n)

/** The last `id:` the stream wrote, id-only blocks included (a parser dispatches none for those). */
function lastId (stream: TestStream): string {
  const ids = [...stream.text().matchAll(/^id: (.*)$/gm)]
  return ids[ids.length - 1][1]
}

/** Waits until the stream has written an id (its cursor) at least once. */
async function cursorOf (stream: TestStream): Promise<string> {
  await eventually(() => /^id: /m.test(stream.text()))
  return lastId(stream)
}

const slowEcho: ChunkedHandler = {
  async init (token) { await token.subscribe('t') },
  async handle (msg: unknown) {
    await new Promise((resolve) => setImmediate(resolve))
    return isPublished(msg) ? (msg as Published).event : undefined
  }
}

/** The promises of issue 9 that depend on the broker, run on each broker. */
export function hardeningSuite (t: Test, makeBroker: BrokerFactory): void {
  async function appWith (t: Test, options: Parameters<typeof startApp>[1], routes: Parameters<typeof startApp>[2]) {
    const { broker, cleanup } = await makeBroker()
    t.teardown(cleanup)
    return startApp(t, { broker, heartbeat: false, ...options }, routes)
  }

  /** A topic stream whose one client subscribed, took its cursor and left. */
  async function awayClient (t: Test) {
    const { app, url } = await appWith(t, {}, (app) => {
      app.get('/t', { chunk: true, handler: topics(() => ['t']) })
    })
    const first = await openStream(`${url}/t`)
    const cursor = await cursorOf(first)
    first.close()
    await eventually(() => app.sse.connections === 0)
    return { app, url, cursor }
  }

  for (const [name, handler] of [['relayed', topics(() => ['t'])], ['handled by an async handle', slowEcho]] as const) {
    t.test(`item 2: a client 2,500 events behind, past mailbox.limit 100, resumes whole (${name})`, async (t) => {
      const { app, url } = await appWith(t, { mailbox: { limit: 100 } }, (app) => {
        app.get('/t', { chunk: true, handler })
      })
      const first = await openStream(`${url}/t`)
      const cursor = await cursorOf(first)
      first.close()
      await eventually(() => app.sse.connections === 0)
      for (let n = 1; n <= 2500; n++) await app.sse.publish('t', { n })
      const again = await openStream(`${url}/t`, { headers: { 'last-event-id': cursor } })
      await again.waitFor(2500)
      await app.sse.publish('t', { n: 2501 })
      await again.waitFor(2501)
      t.same(numbers(again), Array.from({ length: 2501 }, (_, i) => i + 1), 'every event once, in order')
      t.notOk(again.events.some((e) => e.event === 'reset'), 'no reset')
      t.equal(app.sse.stats().overflowDisconnects, 0, 'the replay did not count against the mailbox')
      again.close()
    })
  }

  t.test('item 7: closeTopic after events an async handle has not written yet: they are written, then the final; then 204', async (t) => {
    const { app, url } = await appWith(t, {}, (app) => {
      app.get('/t', { chunk: true, handler: slowEcho })
    })
    const stream = await openStream(`${url}/t`)
    await cursorOf(stream)
    await Promise.all([1, 2, 3, 4, 5].map((n) => app.sse.publish('t', { n })))
    await app.sse.closeTopic('t', { n: 'final' })
    await stream.ended
    t.same(stream.events.map((e) => JSON.parse(e.data).n), [1, 2, 3, 4, 5, 'final'], 'all five, then the final')
    t.equal(app.sse.stats().messagesDropped, 0, 'nothing dropped')
    const again = await openStream(`${url}/t`, { headers: { 'last-event-id': lastId(stream) } })
    t.equal(again.status, 204, 'a client that has everything is told to stop')
  })

  t.test('item 7: a client away when the topic closed gets what it missed, then the final, then 204', async (t) => {
    const { app, url, cursor } = await awayClient(t)
    for (let n = 1; n <= 3; n++) await app.sse.publish('t', { n })
    await app.sse.closeTopic('t', new Event({ event: 'done', data: 'bye' }))
    const back = await openStream(`${url}/t`, { headers: { 'last-event-id': cursor } })
    t.equal(back.status, 200)
    await back.ended
    t.same(back.events.map((e) => e.event ?? 'message'), ['message', 'message', 'message', 'done'])
    t.same(back.events.slice(0, 3).map((e) => JSON.parse(e.data).n), [1, 2, 3])
    const last = await openStream(`${url}/t`, { headers: { 'last-event-id': lastId(back) } })
    t.equal(last.status, 204)
    const stale = await openStream(`${url}/t`)
    t.equal(stale.status, 204, 'a new client without a cursor: 204')
  })

  t.test('item 7: a client further behind than the history when the topic closed: a reset, the final, then 204', async (t) => {
    const { app, url, cursor } = await awayClient(t)
    await app.sse.publish('t', { n: 1 })
    await app.sse.closeTopic('t', new Event({ event: 'done', data: 'bye' }))
    // A cursor of another epoch: the history cannot cover it.
    const back = await openStream(`${url}/t`, { headers: { 'last-event-id': cursor.replace(/=[^.]+\./, '=elsewhere.') } })
    t.equal(back.status, 200)
    await back.ended
    t.same(back.events.map((e) => e.event), ['reset', 'done'], 'told it missed events, then the close')
    const last = await openStream(`${url}/t`, { headers: { 'last-event-id': lastId(back) } })
    t.equal(last.status, 204)
  })

  t.test('from: \'start\': a stream without a cursor replays the retained history first; a cursor wins', async (t) => {
    const { app, url } = await appWith(t, {}, (app) => {
      app.get('/gen', { chunk: true, handler: topics(() => ['gen'], { from: 'start' }) })
      app.get('/sub', { chunk: true, handler: { async init (token) { await token.subscribe('gen', { from: 'start' }) } } })
    })
    for (let n = 1; n <= 3; n++) await app.sse.publish('gen', { n })
    const late = await openStream(`${url}/gen`)
    await late.waitFor(3)
    await app.sse.publish('gen', { n: 4 })
    await late.waitFor(4)
    t.same(numbers(late), [1, 2, 3, 4], 'from its first token, then live')
    const viaToken = await openStream(`${url}/sub`, { headers: { 'last-event-id': late.events[1].id! } })
    await viaToken.waitFor(2)
    t.same(numbers(viaToken), [3, 4], 'the cursor wins over from: start')
    late.close()
    viaToken.close()
    t.throws(() => topics(() => [], { from: 'middle' as never }), { code: 'SSE_ERR_INVALID_OPTION' })
  })

  t.test('item 13: a topic never published: the cursor is written at once and its first events resume with no reset', async (t) => {
    const { app, url } = await appWith(t, {}, (app) => {
      app.get('/t', { chunk: true, handler: topics(() => ['fresh']) })
    })
    const first = await openStream(`${url}/t`)
    const cursor = await cursorOf(first)
    t.match(cursor, /^fresh=0\.0$/, 'the position before any event')
    await app.sse.publish('fresh', { n: 1 })
    await first.waitFor(1)
    first.close()
    await eventually(() => app.sse.connections === 0)
    const late = await openStream(`${url}/t`, { headers: { 'last-event-id': cursor } })
    await app.sse.publish('fresh', { n: 2 })
    await late.waitFor(2)
    t.same(numbers(late), [1, 2], 'the first event is replayed to a client that had only the empty cursor')
    t.notOk([...first.events, ...late.events].some((e) => e.event === 'reset'), 'no reset')
    late.close()
  })
}
