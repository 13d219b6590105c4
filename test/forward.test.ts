import t from 'tap'
import { request } from 'undici'
import { type ChunkedHandler, type CloseReason, Event, forward, noContent } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'
import { endlessLine, httpServer } from './client/helpers.js'

/** The seeds' upstream: ten chunks, a few ms apart, with ids, resuming after Last-Event-ID. */
function tenChunks (seen: { lastEventIds: Array<string | undefined>, reasons: CloseReason[] }): ChunkedHandler<{ n: number }, 'next'> {
  return {
    init (token) {
      seen.lastEventIds.push(token.lastEventId)
      token.state = { n: Number(token.lastEventId ?? 0) }
      token.every(5, 'next')
    },
    handle (_msg, token) {
      const n = ++token.state.n
      if (n > 10) return token.close()
      return new Event({ event: n % 2 === 0 ? 'even' : undefined, data: `chunk ${n}`, id: String(n) })
    },
    terminate (reason) { seen.reasons.push(reason) }
  }
}

t.test('forward relays an upstream stream, its events and ids as they are, and passes Last-Event-ID up', async (t) => {
  const seen = { lastEventIds: [] as Array<string | undefined>, reasons: [] as CloseReason[] }
  const upstream = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/stream', { chunk: true, handler: tenChunks(seen) })
  })
  const downstreamReasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', {
      chunk: true,
      handler: { ...forward(() => `${upstream.url}/stream`, { headers: { 'x-token': 'secret' } }), terminate: (reason) => { downstreamReasons.push(reason) } }
    })
  })
  const stream = await openStream(`${url}/wrapper`, { headers: { 'last-event-id': '4' } })
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['chunk 5', 'chunk 6', 'chunk 7', 'chunk 8', 'chunk 9', 'chunk 10'])
  t.same(stream.events.map((e) => e.id), ['5', '6', '7', '8', '9', '10'])
  t.same(stream.events.map((e) => e.event), [undefined, 'even', undefined, 'even', undefined, 'even'])
  t.same(seen.lastEventIds, ['4'], 'the downstream Last-Event-ID went up')
  t.ok(stream.retries.length === 1, 'the upstream ended: the client is told when to come back')
  t.same(downstreamReasons, ['upstream-closed'])
})

t.test('the upstream sees its connection closed as soon as the downstream client leaves', async (t) => {
  const reasons: CloseReason[] = []
  const upstream = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/forever', {
      chunk: true,
      handler: { init: (token) => { token.every(5, 'tick') }, handle: () => new Event({ data: 'tick' }), terminate: (reason) => { reasons.push(reason) } }
    })
  })
  const downstream = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', { chunk: true, handler: forward(() => `${upstream.url}/forever`) })
  })
  const stream = await openStream(`${downstream.url}/wrapper`)
  await stream.waitFor(3)
  t.equal(upstream.app.sse.connections, 1)
  stream.close()
  await eventually(() => reasons.length === 1)
  t.same(reasons, ['client-closed'])
  await eventually(() => downstream.app.sse.connections === 0)
})

t.test('an upstream 204 is a 204; an upstream failure is SSE_ERR_UPSTREAM', async (t) => {
  const upstream = await startApp(t, {}, (app) => {
    app.get('/none', { chunk: true, handler: { init: () => noContent() } })
    app.get('/broken', async (_request, reply) => reply.code(500).send({ error: 'broken' }))
    app.get('/json', async () => ({ not: 'a stream' }))
  })
  const { url } = await startApp(t, {}, (app) => {
    app.get<{ Params: { path: string } }>('/via/:path', { chunk: true, handler: forward((request) => `${upstream.url}/${request.params.path}`) })
    app.get('/nowhere', { chunk: true, handler: forward(() => 'http://127.0.0.1:1/closed') })
  })
  const none = await request(`${url}/via/none`)
  t.equal(none.statusCode, 204)
  await none.body.dump()
  for (const path of ['/via/broken', '/via/json', '/nowhere']) {
    const failed = await request(url + path)
    t.equal(failed.statusCode, 502, path)
    t.equal((await failed.body.json() as { code: string }).code, 'SSE_ERR_UPSTREAM')
  }
})

t.test('an upstream line past maxEventSize ends the stream with a retry, is logged with its code, and closes the upstream', async (t) => {
  const upstream = await httpServer(t, (_req, res) => endlessLine(res, 'retry: 7\nid: 1\ndata: before\n\n'))
  const logs: Array<{ msg: string, code?: string, level: number }> = []
  const logger = { level: 'warn', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } }
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', {
      chunk: true,
      handler: {
        ...forward(() => upstream.url, { headers: (request) => ({ 'x-from': request.url }), maxEventSize: 64 * 1024 }),
        terminate: (reason) => { reasons.push(reason) }
      }
    })
  }, { logger })
  const stream = await openStream(`${url}/wrapper`)
  await stream.ended
  t.same(stream.events.map((e) => [e.data, e.id]), [['before', '1']], 'the events before it are relayed')
  t.same(stream.retries, [7], 'the client is told when to come back')
  t.same(reasons, ['upstream-closed'])
  t.match(logs, [{ code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE', msg: 'the upstream event stream failed' }])
  t.equal(upstream.requests[0].headers['x-from'], '/wrapper', 'headers may be a function of the request')
  await upstream.requests[0].closed
})

t.test('forward refuses a maxEventSize that is not a positive integer when the route is declared', async (t) => {
  t.throws(() => forward(() => 'http://127.0.0.1:1/', { maxEventSize: 1.5 }), { code: 'SSE_ERR_CLIENT_INVALID_OPTION' })
})
