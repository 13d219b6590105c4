import http from 'node:http'
import t from 'tap'
import { type ChunkedHandler, Event } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

const activeHandles = (): number => (process as unknown as { _getActiveHandles (): unknown[] })._getActiveHandles().length

t.test('1,000 connect/disconnect cycles leave no timers, listeners or registry entries', async (t) => {
  const terminated: string[] = []
  const Busy: ChunkedHandler = {
    init (token) {
      void token.id // registers the stream for notify
      token.every(50, 'tick')
      token.after(60_000, 'later')
      void token.signal
    },
    handle: () => new Event({ data: 'tick' }),
    terminate: (reason) => { terminated.push(reason) }
  }
  const { app, url } = await startApp(t, { heartbeat: 1000 }, (app) => {
    app.get('/busy', { chunk: true, handler: Busy })
  })
  const warm = await openStream(`${url}/busy`)
  warm.close()
  await eventually(() => app.sse.connections === 0)
  const handlesBefore = activeHandles()
  const cycles = 1000
  for (let batch = 0; batch < cycles / 50; batch++) {
    const streams = await Promise.all(Array.from({ length: 50 }, () => openStream(`${url}/busy`)))
    for (const stream of streams) stream.close()
  }
  await eventually(() => terminated.length === cycles + 1)
  t.equal(app.sse.connections, 0)
  t.same(new Set(terminated), new Set(['client-closed']))
  const runtime = (app as unknown as Record<symbol, { byId: Map<string, unknown>, streams: Set<unknown>, heartbeats: { timers: number } }>)[Symbol.for('fastify-sse-actors.runtime')]
  t.equal(runtime.byId.size, 0, 'no registry entry left')
  t.equal(runtime.streams.size, 0)
  t.equal(runtime.heartbeats.timers, 0, 'no heartbeat timer left')
  await eventually(() => activeHandles() <= handlesBefore)
  t.ok(activeHandles() <= handlesBefore, 'no timer or socket left')
})

t.test('fastify.close() with 1,000 open streams: every terminate("shutdown") runs and may say goodbye', async (t) => {
  const reasons: string[] = []
  const { app, url } = await startApp(t, { shutdownTimeout: 5000, retry: 2000 }, (app) => {
    app.get('/open', {
      chunk: true,
      handler: {
        init: () => new Event({ event: 'hello', data: 'hi' }),
        terminate (reason) {
          reasons.push(reason)
          return new Event({ event: 'goodbye', data: 'bye' })
        }
      }
    })
  })
  const streams = []
  for (let batch = 0; batch < 20; batch++) {
    streams.push(...await Promise.all(Array.from({ length: 50 }, () => openStream(`${url}/open`))))
  }
  await Promise.all(streams.map((s) => s.waitFor(1)))
  t.equal(app.sse.connections, 1000)
  await app.close()
  t.equal(reasons.length, 1000)
  t.same(new Set(reasons), new Set(['shutdown']))
  await Promise.all(streams.map((s) => s.ended))
  t.ok(streams.every((s) => s.events.at(-1)?.event === 'goodbye'), 'every stream got its goodbye')
  t.ok(streams.every((s) => s.retries.length === 2 && s.retries[0] === 2000), 'the retry option is sent when a stream opens')
  t.ok(streams.every((s) => s.retries[1] >= 2000 && s.retries[1] <= 10000), 'a jittered retry before the goodbye')
  t.equal(new Set(streams.map((s) => s.retries[1])).size > 1, true, 'retries are spread')
})

t.test('close() cuts a stream whose terminate never returns, after shutdownTimeout', async (t) => {
  const { app, url } = await startApp(t, { shutdownTimeout: 200 }, (app) => {
    app.get('/stuck', { chunk: true, handler: { init () {}, terminate: () => new Promise<void>(() => {}) } })
  })
  const stream = await openStream(`${url}/stuck`)
  await app.close()
  await stream.ended
  t.pass('closed')
})

t.test('past maxConnections: the stream opens with a jittered retry and ends, no actor', async (t) => {
  let inits = 0
  const { app, url } = await startApp(t, { maxConnections: 2, retry: 1000 }, (app) => {
    app.get('/s', { chunk: true, handler: { init () { inits++ } } })
    app.get('/n', { chunk: { format: 'ndjson' }, handler: { init () { inits++ } } })
  })
  const a = await openStream(`${url}/s`)
  const b = await openStream(`${url}/s`)
  await eventually(() => app.sse.connections === 2)
  const refused = await openStream(`${url}/s`)
  await refused.ended
  t.equal(refused.status, 200)
  t.equal(refused.retries.length, 1)
  t.ok(refused.retries[0] >= 1000 && refused.retries[0] <= 5000)
  const ndjson = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/n`, resolve))
  t.equal(ndjson.statusCode, 503)
  t.ok(Number(ndjson.headers['retry-after']) >= 1)
  ndjson.resume()
  t.equal(inits, 2)
  a.close()
  b.close()
})

t.test('a stream that opens while the server shuts down is sent away', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/slow', {
      chunk: true,
      handler: { async init () { await new Promise((resolve) => setTimeout(resolve, 100)) } }
    })
  })
  const pending = openStream(`${url}/slow`)
  await new Promise((resolve) => setTimeout(resolve, 20))
  await app.close()
  const stream = await pending
  await stream.ended
  t.equal(stream.retries.length, 1)
})
