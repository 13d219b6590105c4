// A topics() stream on the memory broker opens without a turn of the event loop: subscribing while
// the stream opens settles at once when it can. These pin what that must not change; the last two
// are what an open stream's subscribe did wrong when it too settled at once (its handler's result
// lost or an empty id: written before the close), so an open stream's subscribe waits a turn again.
import type { FastifyInstance } from 'fastify'
import http from 'node:http'
import t, { type Test } from 'tap'
import { type Broker, type ChunkedHandler, Event, memoryBroker, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { redisAvailable, redisCluster } from './helpers/redis.js'
import { eventually, openStream, type TestStream } from './helpers/stream.js'

const ids = (stream: TestStream): string[] => [...stream.text().matchAll(/^id: ?(.*)$/gm)].map((m) => m[1])
const opened = (stream: TestStream): Promise<void> => eventually(() => /^id:/m.test(stream.text()))
const data = (stream: TestStream): unknown[] => stream.events.map((e) => JSON.parse(e.data))

/**
 * `/hold/:topic`: a stream subscribed to the topic whose `handle` is stuck, so a closeTopic leaves the
 * topic listened to on this instance (its TopicClosed waits in the mailbox): the next subscribe to it
 * takes the at-once path (hub.join returns undefined, readAtOnce reads the tombstone).
 */
function holder (t: Test): { route: (app: FastifyInstance) => void, held: () => number } {
  let release = (): void => {}
  const stuck = new Promise<void>((resolve) => { release = resolve })
  t.teardown(() => release())
  let held = 0
  const Hold: ChunkedHandler<unknown, unknown, any> = {
    async init (token) {
      await token.subscribe(token.request.params.topic)
      token.send('block')
    },
    async handle (msg) {
      if (msg !== 'block') return
      held++
      await stuck
    }
  }
  return { route: (app) => { app.get('/hold/:topic', { chunk: true, handler: Hold }) }, held: () => held }
}

async function memoryApp (t: Test, routes: (app: FastifyInstance) => void, broker: Broker = memoryBroker()) {
  return startApp(t, { broker, heartbeat: false }, routes)
}

/** An open stream on `/hold/:topic`, then the topic closed: it stays listened to. */
async function closedButListened (t: Test, app: FastifyInstance, url: string, held: () => number, topic: string): Promise<void> {
  const before = held()
  const hold = await openStream(`${url}/hold/${topic}`)
  t.teardown(() => hold.close())
  await eventually(() => held() === before + 1)
  await app.sse.closeTopic(topic, new Event({ event: 'done', data: '"bye"' }))
}

t.test('select: sync throw, sync non-array, promise, promise of non-array, the same topic twice', async (t) => {
  const { app, url } = await memoryApp(t, (app) => {
    app.get('/throws', { chunk: true, handler: topics(() => { throw Object.assign(new Error('forbidden'), { statusCode: 403 }) }) })
    app.get('/not-array', { chunk: true, handler: topics(() => ({ length: 1, 0: 's' }) as never) })
    app.get('/not-strings', { chunk: true, handler: topics(() => [1] as never) })
    app.get('/promise', { chunk: true, handler: topics(async () => ['s']) })
    app.get('/promise-bad', { chunk: true, handler: topics(async () => 's' as never) })
    app.get('/twice', { chunk: true, handler: topics(() => ['s', 's']) })
  })
  t.equal((await openStream(`${url}/throws`)).status, 403)
  t.equal((await openStream(`${url}/not-array`)).status, 500)
  t.equal((await openStream(`${url}/not-strings`)).status, 500)
  t.equal((await openStream(`${url}/promise-bad`)).status, 500)
  await eventually(() => app.sse.connections === 0)
  const viaPromise = await openStream(`${url}/promise`)
  const twice = await openStream(`${url}/twice`)
  await Promise.all([opened(viaPromise), opened(twice)])
  await app.sse.publish('s', { n: 1 })
  await app.sse.publish('s', { n: 2 })
  await Promise.all([viaPromise.waitFor(2), twice.waitFor(2)])
  t.same(data(twice), [{ n: 1 }, { n: 2 }], 'one subscription for a topic named twice')
  t.match(twice.events[1].id, /^s=[\w-]+\.2$/)
  t.same(data(viaPromise), [{ n: 1 }, { n: 2 }])
  viaPromise.close()
  twice.close()
})

t.test('a closed topic before the stream opens: 204, or replay then the final event, listened to or not', async (t) => {
  const hold = holder(t)
  const { app, url } = await memoryApp(t, (app) => {
    hold.route(app)
    app.get('/t/:topic', { chunk: true, handler: topics((req: any) => [req.params.topic]) })
    app.get('/init/:topic', { chunk: true, handler: { init: async (token: any) => { await token.subscribe(token.request.params.topic) }, handle: () => {} } })
  })
  for (const listened of [false, true]) {
    const topic = listened ? 'listened' : 'alone'
    const first = await openStream(`${url}/t/${topic}`)
    await opened(first)
    await app.sse.publish(topic, { n: 1 })
    await first.waitFor(1)
    first.close()
    await app.sse.publish(topic, { n: 2 })
    const all = await openStream(`${url}/t/${topic}`)
    await opened(all)
    if (listened) await closedButListened(t, app, url, hold.held, topic)
    else await app.sse.closeTopic(topic, new Event({ event: 'done', data: '"bye"' }))
    await all.ended
    const label = listened ? 'still listened' : 'not listened'
    t.equal((await openStream(`${url}/t/${topic}`)).status, 204, `${label}: no Last-Event-ID`)
    t.equal((await openStream(`${url}/init/${topic}`)).status, 204, `${label}: an object handler's init`)
    const upToDate = ids(all).at(-1)!
    t.equal((await openStream(`${url}/t/${topic}`, { headers: { 'last-event-id': upToDate } })).status, 204, `${label}: has it all`)
    const behind = await openStream(`${url}/t/${topic}`, { headers: { 'last-event-id': first.events[0].id! } })
    await behind.ended
    t.equal(behind.status, 200)
    t.same(behind.events.map((e) => [e.event, e.data]), [[undefined, '{"n":2}'], ['done', '"bye"']], `${label}: missed event, then the close`)
  }
})

t.test('handle subscribes a sync handle to a closed topic: what it returns is written, then the stream ends', async (t) => {
  const hold = holder(t)
  let id = ''
  const reasons: string[] = []
  const { app, url } = await memoryApp(t, (app) => {
    hold.route(app)
    app.get('/late', {
      chunk: true,
      handler: {
        init: (token) => { id = token.id },
        handle: (msg, token) => { void token.subscribe(String(msg)); return new Event({ event: 'joined', data: String(msg) }) },
        terminate: (reason) => { reasons.push(reason) }
      }
    })
  })
  for (const topic of ['gone-alone', 'gone-listened']) {
    if (topic === 'gone-alone') await app.sse.closeTopic(topic)
    else await closedButListened(t, app, url, hold.held, topic)
    const late = await openStream(`${url}/late`)
    await eventually(() => id !== '' && app.sse.notify(id, topic))
    await late.ended
    t.same(late.events.map((e) => e.event), ['joined'], topic)
    id = ''
  }
  t.same(reasons, ['topic-closed', 'topic-closed'])
})

t.test('many streams open between publishes, two topics each: each id is its own; a resume is exact', async (t) => {
  const { app, url } = await memoryApp(t, (app) => {
    app.get('/pair/:i', { chunk: true, handler: topics((req: any) => ['common', `own${req.params.i}`]) })
  })
  const pairs = 8
  for (let i = 0; i < pairs; i++) await app.sse.publish(`own${i}`, { topic: `own${i}`, n: 1 })
  const streams: Array<{ i: number, stream: TestStream }> = []
  for (let round = 0; round < 3; round++) {
    await app.sse.publish('common', { topic: 'common', n: round + 1 })
    for (let i = 0; i < pairs; i++) {
      for (const stream of await Promise.all([openStream(`${url}/pair/${i}`), openStream(`${url}/pair/${i}`)])) streams.push({ i, stream })
    }
    await Promise.all(streams.map(({ stream }) => opened(stream)))
  }
  await app.sse.publish('common', { topic: 'common', n: 4 })
  await Promise.all(streams.map(({ stream }) => stream.waitFor(1)))
  const foreign = streams.flatMap(({ i, stream }) => ids(stream).filter((id) => !new RegExp(`^common=[\\w-]+\\.\\d+&own${i}=[\\w-]+\\.1$`).test(id)).map((id) => `own${i}: ${id}`))
  t.same(foreign, [], 'every id a stream got carries its own topics')
  t.same(streams.filter(({ stream }) => !/^common=[\w-]+\.4&/.test(ids(stream).at(-1)!)).length, 0, 'each cursor is at the last event')
  const last = streams.map(({ i, stream }) => ({ i, id: ids(stream).at(-1)! }))
  for (const { stream } of streams) stream.close()
  await eventually(() => app.sse.connections === 0)
  for (let i = 0; i < pairs; i++) await app.sse.publish(`own${i}`, { topic: `own${i}`, n: 2 })
  await app.sse.publish('common', { topic: 'common', n: 5 })
  const resumed = await Promise.all(last.map(async ({ i, id }) => ({ i, stream: await openStream(`${url}/pair/${i}`, { headers: { 'last-event-id': id } }) })))
  const wrong: string[] = []
  for (const { i, stream } of resumed) {
    await stream.waitFor(2)
    const got = JSON.stringify(data(stream).sort((a: any, b: any) => a.topic.localeCompare(b.topic)))
    if (got !== JSON.stringify([{ topic: 'common', n: 5 }, { topic: `own${i}`, n: 2 }])) wrong.push(`own${i}: ${got}`)
    stream.close()
  }
  t.same(wrong, [], 'each resume got exactly what it missed')
  t.equal(app.sse.stats().resets, 0)
})

t.test('maxTopicsPerStream: past it the stream is refused and leaves what it subscribed at once', async (t) => {
  const { app, url } = await memoryApp(t, (app) => {
    app.get('/three', { chunk: { maxTopicsPerStream: 2 }, handler: topics(() => ['m1', 'm2', 'm3']) })
    app.get('/two', { chunk: { maxTopicsPerStream: 2 }, handler: topics(() => ['m1', 'm2']) })
  })
  const keep = await openStream(`${url}/two`)
  await opened(keep)
  const refused = await openStream(`${url}/three`)
  await refused.ended
  t.equal(refused.status, 500)
  t.match(JSON.parse(refused.text()), { code: 'SSE_ERR_TOO_MANY_TOPICS' })
  await eventually(() => app.sse.connections === 1)
  await app.sse.publish('m1', { n: 1 })
  await keep.waitFor(1)
  t.equal(app.sse.stats().eventsWritten, 1, 'the refused stream took nothing')
  keep.close()
})

t.test('a client that leaves before the stream opens, before or while select runs: nothing stays open', async (t) => {
  let arrived = 0
  let left = 0
  let answer = (): void => {}
  let slow: any
  const reasons: string[] = []
  const { app, url } = await memoryApp(t, (app) => {
    const handler = { ...topics((req: any) => [req.params.topic]), terminate: (reason: string) => { reasons.push(reason) } }
    const preHandler = async (request: any): Promise<void> => {
      arrived++
      await new Promise((resolve) => request.raw.socket.once('close', resolve))
      left++
    }
    app.get('/gone/:topic', { chunk: true, preHandler, handler })
    app.get('/slow', { chunk: true, handler: topics(async (req) => { slow = req.raw.socket; arrived++; await new Promise<void>((resolve) => { answer = resolve }); return ['busy'] }) })
    app.get('/t/:topic', { chunk: true, handler: topics((req: any) => [req.params.topic]) })
  })
  const listener = await openStream(`${url}/t/busy`)
  await opened(listener)
  for (const [n, path] of ['/gone/busy', '/gone/quiet', '/slow'].entries()) {
    const request = http.get(url + path, { agent: false })
    request.on('error', () => {})
    await eventually(() => arrived === n + 1)
    request.destroy()
    await eventually(() => path === '/slow' ? slow.destroyed === true : left === n + 1)
    answer()
    await eventually(() => app.sse.connections === 1)
  }
  t.same(reasons, ['client-closed', 'client-closed'])
  await app.sse.publish('busy', { n: 1 })
  await app.sse.publish('quiet', { n: 1 })
  await listener.waitFor(1)
  t.equal(app.sse.stats().eventsWritten, 1, 'only the listener wrote')
  listener.close()
})

t.test('Redis: streams subscribe while the first subscribe of the topic is still joining', async (t) => {
  if (!await redisAvailable(t)) return t.pass('no Redis here: skipped')
  const broker = redisCluster(t)()
  const { app, url } = await startApp(t, { broker, heartbeat: false }, (app) => {
    app.get('/r', { chunk: true, handler: topics(() => ['fresh', 'fresh']) })
    app.get('/r2', { chunk: true, handler: topics(() => ['fresh', 'other']) })
  })
  const together = await Promise.all([openStream(`${url}/r`), openStream(`${url}/r2`), openStream(`${url}/r`)])
  await Promise.all(together.map(opened))
  const after = await openStream(`${url}/r`)
  await opened(after)
  const all = [...together, after]
  await app.sse.publish('fresh', { n: 1 })
  await Promise.all(all.map((s) => s.waitFor(1)))
  t.same(all.map(data), [[{ n: 1 }], [{ n: 1 }], [{ n: 1 }], [{ n: 1 }]])
  t.match(together[1].events[0].id, /^fresh=[\w-]+\.1&other=/)
  for (const s of all) s.close()
})

// An open stream's subscribe to a closed topic, with the topic still listened to on this instance.

/**
 * An app with the holding route and `route` (whose init keeps the stream's id), then `check` for a
 * topic closed with nobody listening here and for one closed while another stream still listens.
 */
async function onClosedTopics (t: Test, prefix: string, route: (app: FastifyInstance, keepId: (id: string) => void) => void, check: (topic: string, url: string, notify: (topic: string) => boolean) => Promise<void>): Promise<void> {
  const hold = holder(t)
  let id = ''
  const { app, url } = await memoryApp(t, (app) => {
    hold.route(app)
    route(app, (streamId) => { id = streamId })
  })
  for (const topic of [`${prefix}-alone`, `${prefix}-listened`]) {
    if (topic === `${prefix}-alone`) await app.sse.closeTopic(topic)
    else await closedButListened(t, app, url, hold.held, topic)
    id = ''
    await check(topic, url, (name) => id !== '' && app.sse.notify(id, name))
  }
}

t.test('an async handle that subscribes to a closed topic writes what it returns, then the stream ends', async (t) => {
  await onClosedTopics(t, 'gone', (app, keepId) => app.get('/late', {
    chunk: true,
    handler: {
      init: (token) => { keepId(token.id) },
      async handle (msg, token) { void token.subscribe(String(msg)); return new Event({ event: 'joined', data: String(msg) }) }
    }
  }), async (topic, url, notify) => {
    const late = await openStream(`${url}/late`)
    await eventually(() => notify(topic))
    await late.ended
    t.same(late.events.map((e) => e.event), ['joined'], `${topic}: what handle returned is written before the end`)
  })
})

t.test('a handle subscribing to a closed topic writes no empty id: over the handler\'s own id', async (t) => {
  await onClosedTopics(t, 'shut', (app, keepId) => app.get('/own', {
    chunk: true,
    handler: {
      init: (token) => { keepId(token.id); return new Event({ id: 'h1', data: 'hello' }) },
      handle: (msg, token) => { void token.subscribe(String(msg)); return new Event({ data: 'bye' }) }
    }
  }), async (topic, url, notify) => {
    const own = await openStream(`${url}/own`)
    await own.waitFor(1)
    notify(topic)
    await own.ended
    t.same(own.events.map((e) => e.data), ['hello', 'bye'], topic)
    t.same(ids(own), ['h1'], `${topic}: the client's Last-Event-ID stays h1 (no id-only block for a topic never joined)`)
  })
})
