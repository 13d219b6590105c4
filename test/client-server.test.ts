// The project's client against the project's server: resume across a cut, 204, errors.
import t from 'tap'
import { connect, SseClient } from '../lib/client/index.js'
import { type ChunkedHandler, isPublished, noContent, type Published, stop } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually } from './helpers/stream.js'

/** A topic stream the test can cut: `notify(id, 'cut')` ends it, and the client comes back. */
function cuttable (ids: Set<string>): ChunkedHandler<unknown, Published | 'cut'> {
  return {
    async init (token) {
      ids.add(token.id)
      await token.subscribe('feed')
    },
    handle: (msg) => isPublished(msg) ? msg.event : stop(),
    terminate (_reason, token) { ids.delete(token.id) }
  }
}

t.test('connect() resumes where it left off after the server cuts the stream', async (t) => {
  const ids = new Set<string>()
  const lastEventIds: Array<string | undefined> = []
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.addHook('onRequest', async (request) => { lastEventIds.push(request.headers['last-event-id'] as string | undefined) })
    app.get('/feed', { chunk: { retry: 20 }, handler: cuttable(ids) })
  })
  const received: number[] = []
  const reading = (async () => {
    for await (const event of connect(`${url}/feed`)) {
      received.push(JSON.parse(event.data).n)
      if (received.length === 6) break
    }
  })()
  await eventually(() => ids.size === 1)
  for (let n = 1; n <= 3; n++) await app.sse.publish('feed', { n })
  await eventually(() => received.length === 3)
  for (const id of ids) app.sse.notify(id, 'cut')
  await eventually(() => ids.size === 0)
  for (let n = 4; n <= 6; n++) await app.sse.publish('feed', { n })
  await reading
  t.same(received, [1, 2, 3, 4, 5, 6], 'every event once, in order')
  t.equal(lastEventIds.length, 2)
  t.equal(lastEventIds[0], undefined)
  t.match(lastEventIds[1], /^feed=[\w-]+\.3$/, 'the reconnect sent the cursor of the last event')
})

t.test('connect() ends on 204 and throws on 500 with the status', async (t) => {
  const { url } = await startApp(t, {}, (app) => {
    app.get('/none', { chunk: true, handler: { init: () => noContent() } })
    app.get('/fails', { chunk: true, handler: { init () { throw new Error('broken') } } })
  })
  const events = []
  for await (const event of connect(`${url}/none`)) events.push(event)
  t.same(events, [])
  await t.rejects((async () => { for await (const event of connect(`${url}/fails`)) void event })(), { code: 'SSE_ERR_CLIENT_STATUS', status: 500 })
})

t.test('SseClient against the server: events, a cut, a resume, then a closed topic stops it with 204', async (t) => {
  const ids = new Set<string>()
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/feed', { chunk: { retry: 20 }, handler: cuttable(ids) })
  })
  const connects: number[] = []
  const client = SseClient.start<{ seen: number[] }>({
    init: (state) => ({ connect: { url: `${url}/feed` }, state }),
    handleConnect: (_response, state) => { connects.push(state.seen.length) },
    handleEvent: (event, state) => ({ seen: [...state.seen, JSON.parse(event.data).n] })
  }, { seen: [] })
  await eventually(() => ids.size === 1)
  await app.sse.publish('feed', { n: 1 })
  await app.sse.publish('feed', { n: 2 })
  await eventually(() => client.lastEventId.endsWith('.2'))
  for (const id of ids) app.sse.notify(id, 'cut')
  await eventually(() => ids.size === 0)
  await app.sse.publish('feed', { n: 3 })
  await eventually(() => ids.size === 1)
  await eventually(() => client.lastEventId.endsWith('.3'))
  await app.sse.closeTopic('feed')
  const { reason, state } = await client.closed
  t.equal(reason, 'no-content', 'the tombstone answered 204 and the client stopped')
  t.same(state.seen, [1, 2, 3])
  t.same(connects, [0, 2], 'opened twice; the third answer was the 204')
})
