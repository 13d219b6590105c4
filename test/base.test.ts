import t from 'tap'
import { request } from 'undici'
import { buildPingApp } from '../example/ping.js'
import { chunked, type ChunkedHandler, type CloseReason, Event, noContent, shutdown, stop, type Token } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

t.test('the ping example streams ping events with the time as JSON', async (t) => {
  const app = await buildPingApp({ heartbeat: false })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const stream = await openStream(`${url}/ping`)
  t.equal(stream.status, 200)
  t.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(stream.headers['cache-control'], 'no-cache, no-transform')
  t.equal(stream.headers['x-accel-buffering'], 'no')
  const [first] = await stream.waitFor(1)
  t.equal(first.event, 'ping')
  t.ok(Number.isFinite(Date.parse(JSON.parse(first.data).time)))
  stream.close()
})

t.test('HEAD answers the headers and starts no actor', async (t) => {
  let inits = 0
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/s', { chunk: true, handler: { init () { inits++ } } })
  })
  const response = await request(`${url}/s`, { method: 'HEAD' })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8')
  await response.body.dump()
  t.equal(inits, 0)
  t.equal(app.sse.connections, 0)
})

t.test('every route form serves a stream', async (t) => {
  const Hello: ChunkedHandler = { init: () => stop(new Event({ data: 'hello' })) }
  const { url } = await startApp(t, {}, (app) => {
    app.get('/object', { chunk: true, handler: Hello })
    app.get('/function', chunked(Hello))
    app.route({ method: 'GET', url: '/route', chunk: true, handler: Hello })
    app.get('/reply', async (_request, reply) => reply.chunk({ init: (token: Token<string>) => stop(new Event({ data: token.state })) }, { state: 'from state' }))
    app.get('/generator', {
      chunk: true,
      handler: async function * () {
        yield new Event({ data: 'one' })
        yield 'data: two\n\n'
        yield new TextEncoder().encode('data: three\n\n')
      }
    })
  })
  for (const path of ['/object', '/function', '/route']) {
    const stream = await openStream(url + path)
    await stream.ended
    t.same(stream.events.map((e) => e.data), ['hello'], path)
  }
  const reply = await openStream(`${url}/reply`)
  await reply.ended
  t.same(reply.events.map((e) => e.data), ['from state'])
  const generator = await openStream(`${url}/generator`)
  await generator.ended
  t.same(generator.events.map((e) => e.data), ['one', 'two', 'three'])
})

t.test('ndjson and raw formats', async (t) => {
  const { url } = await startApp(t, {}, (app) => {
    app.get('/log', {
      chunk: { format: 'ndjson' },
      handler: { init: () => stop([new Event({ data: { a: 1 } }), new Event({ data: 'line' }), '{"raw":true}\n']) }
    })
    app.get('/raw', { chunk: { format: 'raw' }, handler: { init: () => stop([new Event({ data: 'abc' }), 'def']) } })
  })
  const log = await request(`${url}/log`)
  t.equal(log.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  t.equal(await log.body.text(), '{"a":1}\n"line"\n{"raw":true}\n')
  const raw = await request(`${url}/raw`)
  t.equal(raw.headers['content-type'], 'application/octet-stream')
  t.equal(await raw.body.text(), 'abcdef')
})

t.test('init outcomes', async (t) => {
  const reasons: Record<string, CloseReason[]> = {}
  const tracked = (name: string, handler: ChunkedHandler): ChunkedHandler => ({
    ...handler,
    terminate (reason) { (reasons[name] ??= []).push(reason) }
  })
  const { url } = await startApp(t, {}, (app) => {
    app.get('/no-content', { chunk: true, handler: tracked('no-content', { init: () => noContent() }) })
    app.get('/shutdown', { chunk: true, handler: tracked('shutdown', { init: () => shutdown(409, { headers: { 'x-why': 'busy' }, body: 'busy' }) }) })
    app.get('/throws', { chunk: true, handler: tracked('throws', { init () { throw Object.assign(new Error('nope'), { statusCode: 403 }) } }) })
    app.get('/async-throws', { chunk: true, handler: tracked('async-throws', { async init (token) { token.every(5, 'x'); throw new Error('late') } }) })
    app.get('/initial', { chunk: true, handler: tracked('initial', { init: () => [new Event({ data: '1' }), new Event({ data: '2' })], handle: () => stop() }) })
    app.get('/stop', { chunk: true, handler: tracked('stop', { init: () => stop(new Event({ data: 'bye' })) }) })
  })
  const noContentResponse = await request(`${url}/no-content`)
  t.equal(noContentResponse.statusCode, 204)
  await noContentResponse.body.dump()
  const shutdownResponse = await request(`${url}/shutdown`)
  t.equal(shutdownResponse.statusCode, 409)
  t.equal(shutdownResponse.headers['x-why'], 'busy')
  t.equal(await shutdownResponse.body.text(), 'busy')
  const thrown = await request(`${url}/throws`)
  t.equal(thrown.statusCode, 403)
  t.match(await thrown.body.json(), { message: 'nope' })
  const asyncThrown = await request(`${url}/async-throws`)
  t.equal(asyncThrown.statusCode, 500)
  await asyncThrown.body.dump()
  const initial = await openStream(`${url}/initial`)
  await initial.waitFor(2)
  t.same(initial.events.map((e) => e.data), ['1', '2'])
  initial.close()
  const stopped = await openStream(`${url}/stop`)
  await stopped.ended
  t.same(stopped.events.map((e) => e.data), ['bye'])
  await eventually(() => reasons.initial !== undefined)
  t.same(reasons, {
    'no-content': ['stopped'],
    shutdown: ['stopped'],
    throws: ['error'],
    'async-throws': ['error'],
    initial: ['client-closed'],
    stop: ['stopped']
  })
})

t.test('handle results, token.close and terminate output, in mailbox order under async handle', async (t) => {
  const { url } = await startApp(t, {}, (app) => {
    app.get('/async', {
      chunk: true,
      handler: {
        init (token) {
          for (let i = 0; i < 20; i++) token.send(i)
        },
        async handle (msg: number, token) {
          // Later messages finish sooner: order must still hold.
          await new Promise((resolve) => setTimeout(resolve, 20 - msg))
          if (msg === 19) token.close(new Event({ event: 'final', data: 'f' }))
          return msg % 2 === 0 ? new Event({ data: String(msg) }) : [new Event({ data: String(msg) })]
        },
        terminate: () => new Event({ event: 'goodbye', data: 'x' })
      } satisfies ChunkedHandler<unknown, number>
    })
    app.get('/nothing', {
      chunk: true,
      handler: {
        init (token) { token.send('a'); token.send('b') },
        handle: (msg) => msg === 'b' ? stop() : undefined
      }
    })
  })
  const stream = await openStream(`${url}/async`)
  await stream.ended
  t.same(stream.events.map((e) => e.data), [...Array.from({ length: 20 }, (_, i) => String(i)), 'f', 'x'])
  t.same(stream.events.slice(-2).map((e) => e.event), ['final', 'goodbye'])
  const nothing = await openStream(`${url}/nothing`)
  await nothing.ended
  t.same(nothing.events, [])
})

t.test('timers: after, every keeps one tick waiting, cancel', async (t) => {
  const { url } = await startApp(t, {}, (app) => {
    app.get('/timers', {
      chunk: true,
      handler: {
        init (token) {
          const cancel = token.after(5, 'never')
          cancel()
          token.after(10, 'once')
          token.state = { ticks: 0 }
          token.every(1, 'tick')
        },
        async handle (msg: string, token) {
          if (msg === 'once') return new Event({ event: 'once', data: String(token.state.ticks) })
          token.state.ticks++
          // A slow handler: ticks must not pile up behind it.
          await new Promise((resolve) => setTimeout(resolve, 15))
          if (token.state.ticks === 5) return stop(new Event({ event: 'done', data: String(token.state.ticks) }))
          return undefined
        }
      } satisfies ChunkedHandler<{ ticks: number }, string>
    })
  })
  const stream = await openStream(`${url}/timers`)
  await stream.ended
  t.same(stream.events.map((e) => e.event), ['once', 'done'])
  t.equal(stream.events.find((e) => e.event === 'done')?.data, '5')
})

t.test('handleError then terminate("error") when handle throws, a write fails, or a chunk is invalid', async (t) => {
  const seen: string[] = []
  const failing = (handle: ChunkedHandler['handle']): ChunkedHandler => ({
    init (token) { token.send('go') },
    handle,
    handleError (error, msg) { seen.push(`${(error as { code?: string }).code ?? error.message}:${String(msg)}`) },
    terminate (reason) { seen.push(reason) }
  })
  const { url } = await startApp(t, {}, (app) => {
    app.get('/throws', { chunk: true, handler: failing(() => { throw new Error('boom') }) })
    app.get('/rejects', { chunk: true, handler: failing(async () => { throw new Error('async boom') }) })
    app.get('/dom-event', { chunk: true, handler: failing(() => new globalThis.Event('x') as never) })
    app.get('/number', { chunk: true, handler: failing(() => 42 as never) })
  })
  for (const path of ['/throws', '/rejects', '/dom-event', '/number']) {
    const stream = await openStream(url + path)
    await stream.ended
  }
  await eventually(() => seen.length === 8)
  t.same(seen, ['boom:go', 'error', 'async boom:go', 'error', 'SSE_ERR_INVALID_CHUNK:go', 'error', 'SSE_ERR_INVALID_CHUNK:go', 'error'])
})

t.test('app.sse.notify reaches a stream by its id; stats count what was written', async (t) => {
  let streamId = ''
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/notified', {
      chunk: true,
      handler: {
        init (token) { streamId = token.id },
        handle: (msg: string) => msg === 'end' ? stop() : new Event({ data: msg })
      }
    })
  })
  const stream = await openStream(`${url}/notified`)
  await eventually(() => streamId !== '')
  t.match(streamId, /^[0-9a-f-]{36}$/)
  t.equal(app.sse.connections, 1)
  t.equal(app.sse.notify(streamId, 'hello'), true)
  t.equal(app.sse.notify('unknown', 'hello'), false)
  await stream.waitFor(1)
  app.sse.notify(streamId, 'end')
  await stream.ended
  await eventually(() => app.sse.connections === 0)
  t.equal(app.sse.notify(streamId, 'late'), false)
  t.match(app.sse.stats(), { connections: 0, eventsWritten: 1, messagesDropped: 0 })
  t.ok(app.sse.stats().bytesWritten >= 'data: hello\n\n'.length)
})

t.test('token basics: lastEventId from header or query, signal aborts at the end, log has the id', async (t) => {
  const seen: Array<string | undefined> = []
  let signal: AbortSignal | undefined
  const { url } = await startApp(t, {}, (app) => {
    app.get('/id', {
      chunk: true,
      handler: {
        init (token) {
          seen.push(token.lastEventId)
          signal = token.signal
          token.log.debug('opened')
          return stop()
        }
      }
    })
  })
  await (await openStream(`${url}/id`, { headers: { 'last-event-id': 'abc' } })).ended
  await (await openStream(`${url}/id?lastEventId=from%20query`)).ended
  await (await openStream(`${url}/id`)).ended
  t.same(seen, ['abc', 'from query', undefined])
  t.equal(signal?.aborted, true)
})
