import http from 'node:http'
import t from 'tap'
import { request } from 'undici'
import Fastify from 'fastify'
import { checkHandler } from '../lib/check-handler.js'
import { type ChunkedHandler, Event, ssePlugin, stop, topics, TooManyTopicsError } from '../lib/index.js'
import { resolvePluginOptions, resolveStreamOptions } from '../lib/options.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

t.test('a 64 KB Last-Event-ID is read as given and harms nothing', async (t) => {
  const seen: number[] = []
  const { url } = await startApp(t, {}, (app) => {
    app.get('/s', { chunk: true, handler: { init (token) { seen.push(token.lastEventId?.length ?? 0); return stop(new Event({ data: 'ok' })) } } })
  }, { serverFactory: (handler) => http.createServer({ maxHeaderSize: 128 * 1024 }, handler) })
  const stream = await openStream(`${url}/s`, { headers: { 'last-event-id': 'x'.repeat(64 * 1024) } })
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['ok'])
  t.same(seen, [64 * 1024])
})

t.test('CR, LF and NUL in user-supplied event names and ids end the stream with SSE_ERR_INVALID_FIELD, forging nothing', async (t) => {
  const errors: string[] = []
  const { url } = await startApp(t, {}, (app) => {
    app.get<{ Querystring: { name: string, id: string } }>('/echo', {
      chunk: true,
      handler: {
        init: (token) => new Event({ event: token.request.query.name, id: token.request.query.id, data: 'x' }),
        handleError: (error) => { errors.push((error as { code?: string }).code ?? '') }
      }
    })
  })
  for (const [name, id] of [['ok\nevent: forged', '1'], ['ok', '1\r\ndata: forged'], ['ok', 'a\0b']]) {
    const response = await request(`${url}/echo?name=${encodeURIComponent(name)}&id=${encodeURIComponent(id)}`)
    t.equal(response.statusCode, 500)
    const body = await response.body.json() as { code: string }
    t.equal(body.code, 'SSE_ERR_INVALID_FIELD')
  }
  t.same(errors, [], 'an init that throws goes through Fastify, not handleError')
})

t.test('a handler that throws everywhere ends only its own stream', async (t) => {
  const reasons: string[] = []
  const Everywhere: ChunkedHandler = {
    init (token) {
      token.after(1, 'timer')
    },
    handle () { throw new Error('handle') },
    handleError () { throw new Error('handleError too') },
    terminate (reason) { reasons.push(reason); throw new Error('terminate too') }
  }
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/bad', { chunk: true, handler: Everywhere })
    app.get('/good', { chunk: true, handler: { init: (token) => { token.every(5, 't') }, handle: () => new Event({ data: 'fine' }) } })
  })
  const good = await openStream(`${url}/good`)
  const bad = await openStream(`${url}/bad`)
  await bad.ended
  await eventually(() => reasons.length === 1)
  t.same(reasons, ['error'])
  const before = good.events.length
  await good.waitFor(before + 3)
  t.pass('the other stream goes on')
  t.equal(app.sse.connections, 1)
  good.close()
})

t.test('a reply already sent cannot be streamed', async (t) => {
  let code = ''
  const { url } = await startApp(t, {}, (app) => {
    app.get('/sent', async (_request, reply) => {
      reply.send('done')
      await reply.chunk({ init () {} }).catch((error: { code: string }) => { code = error.code })
      return reply
    })
  })
  const response = await request(`${url}/sent`)
  t.equal(await response.body.text(), 'done')
  t.equal(code, 'SSE_ERR_REPLY_SENT')
})

t.test('invalid handlers and options are refused with a code', async (t) => {
  const { chunked } = await import('../lib/index.js')
  t.throws(() => chunked(42 as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  t.throws(() => chunked({ handle: 'no' } as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  t.throws(() => chunked(null as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  for (const options of [{ heartbeat: -1 }, { mailbox: { overflow: 'explode' } }, { retry: 1.5 }, { maxConnections: 0 }, { highWaterMark: Number.NaN }]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(ssePlugin, options as never) }, { code: 'SSE_ERR_INVALID_OPTION' }, JSON.stringify(options))
  }
  const app = Fastify()
  await app.register(ssePlugin)
  t.throws(() => app.get('/x', { chunk: { format: 'xml' as never }, handler: { init () {} } }), { code: 'SSE_ERR_INVALID_OPTION' })
  const bare = Fastify()
  bare.get('/x', chunked({ init () {} }))
  const response = await bare.inject('/x')
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'SSE_ERR_INVALID_HANDLER')
})

t.test('item 1: a forged event name given to publish or closeTopic rejects, stores nothing and reaches no one', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/t', { chunk: true, handler: topics(() => ['t']) })
  })
  const stream = await openStream(`${url}/t`)
  let forged: Promise<string> | undefined
  t.doesNotThrow(() => { forged = app.sse.publish('t', new Event({ data: 'x' }), { event: 'a\n\ndata: forged' }) }, 'publish is async: no synchronous throw')
  await t.rejects(forged!, { code: 'SSE_ERR_INVALID_FIELD', message: /"event"/ })
  await t.rejects(app.sse.publish('t', 'x', { event: 'a\tb' }), { code: 'SSE_ERR_INVALID_FIELD' })
  await t.rejects(app.sse.closeTopic('t', new Event({ data: 'bye', id: '1' })), { code: 'SSE_ERR_ID_RESERVED' })
  await t.rejects(app.sse.closeTopic('t', 10n), { code: 'SSE_ERR_INVALID_FIELD' })
  await t.rejects(app.sse.closeTopic('t', Event.comment('bye')), { code: 'SSE_ERR_INVALID_FIELD' })
  const position = await app.sse.publish('t', 'ok')
  t.match(position, /\.1$/, 'nothing was stored before it: the first good event is offset 1')
  t.same((await stream.waitFor(1)).map((e) => [e.event, e.data]), [[undefined, 'ok']], 'the topic is still open and got only the good event')
  t.notMatch(stream.text(), /forged/)
  stream.close()
  const resumed = await openStream(`${url}/t`, { headers: { 'last-event-id': position.replace(/\.1$/, '.0') } })
  t.equal(resumed.status, 200, 'a resume from before does not 500')
  t.same((await resumed.waitFor(1)).map((e) => e.data), ['ok'])
  resumed.close()
})

t.test('item 17: checkHandler refuses shapes that would open a silent stream', async (t) => {
  class Typo { hanlde () {} }
  class Base { init () {} }
  class Derived extends Base { helper () {} }
  const refused: Array<[string, unknown, RegExp]> = [
    ['{}', {}, /at least one of init, handle/],
    ['{ hanlde() {} }', { hanlde () {} }, /"hanlde"/],
    ['{ init: 5 }', { init: 5 }, /init must be a function/],
    ['a class with a typo method', new Typo(), /"hanlde"/],
    ['an inherited unknown method', new Derived(), /"helper"/],
    ['an own function field under an unknown name', Object.assign(new Base(), { hanlde: () => {} }), /"hanlde"/],
    ['a class instead of an instance', Typo, /is a class/],
    ['null', null, /got null/],
    ['a string', 'handler', /got string/],
    ['a number', 42, /got number/]
  ]
  for (const [name, handler, message] of refused) {
    t.throws(() => checkHandler(handler), { code: 'SSE_ERR_INVALID_HANDLER', message }, name)
  }
})

t.test('item 17: checkHandler accepts functions, plain objects and class instances with data fields', async (t) => {
  class Feed {
    db = { query: 'not a function' }
    handle () {}
  }
  class WithArrows { init = () => {}; handleNotify = () => {} }
  for (const handler of [new Feed(), new WithArrows(), { init () {} }, { handle () {}, terminate () {}, handleError () {}, handleNotify () {} },
    Object.assign(Object.create(null), { init () {} }), async function * gen () {}, () => ({ async * [Symbol.asyncIterator] () {} })]) {
    t.doesNotThrow(() => checkHandler(handler))
  }
})

t.test('item 18: every option object refuses unknown keys with SSE_ERR_INVALID_OPTION', async (t) => {
  for (const [options, key] of [[{ hearbeat: 1000 }, /hearbeat/], [{ mailbox: { size: 1 } }, /mailbox\.size/], [{ format: 'raw' }, /format/]] as const) {
    await t.rejects(async () => { await Fastify().register(ssePlugin, options as never) }, { code: 'SSE_ERR_INVALID_OPTION', message: key }, JSON.stringify(options))
  }
  const fastifyOwn = Fastify()
  await fastifyOwn.register(ssePlugin, { prefix: '/sse', logLevel: 'warn', logSerializers: {} })
  t.pass('the register options Fastify passes along are accepted')
  const { url } = await startApp(t, {}, (app) => {
    t.throws(() => app.get('/a', { chunk: { evnet: 1 } as never, handler: { init () {} } }), { code: 'SSE_ERR_INVALID_OPTION', message: /chunk\.evnet/ })
    t.throws(() => app.get('/b', { chunk: { mailbox: { limt: 5 } } as never, handler: { init () {} } }), { code: 'SSE_ERR_INVALID_OPTION', message: /mailbox\.limt/ })
    t.throws(() => app.get('/c', { chunk: null as never, handler: { init () {} } }), { code: 'SSE_ERR_INVALID_OPTION' })
    app.get('/typo', (_request, reply) => reply.chunk({ init () {} }, { stat: 1 } as never))
    app.get('/state', (_request, reply) => reply.chunk({ init: (token) => stop(new Event({ data: token.state })) }, { state: { n: 1 } }))
  })
  const typo = await request(`${url}/typo`)
  t.equal(typo.statusCode, 500)
  t.match(await typo.body.json(), { code: 'SSE_ERR_INVALID_OPTION', message: /stat/ })
  const state = await openStream(`${url}/state`)
  await state.ended
  t.same(state.events.map((e) => e.data), ['{"n":1}'], 'reply.chunk takes state besides the chunk options')
})

t.test('item 18: maxTopicsPerStream is a positive integer, 64 by default, at plugin and route level', async (t) => {
  t.equal(resolveStreamOptions({}).maxTopicsPerStream, 64)
  t.equal(resolvePluginOptions({ maxTopicsPerStream: 8 }).defaults.maxTopicsPerStream, 8)
  t.equal(resolveStreamOptions({ maxTopicsPerStream: 8 }, { maxTopicsPerStream: 3 }).maxTopicsPerStream, 3)
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '64']) {
    t.throws(() => resolvePluginOptions({ maxTopicsPerStream: bad as never }), { code: 'SSE_ERR_INVALID_OPTION', message: /maxTopicsPerStream/ }, `plugin ${String(bad)}`)
    t.throws(() => resolveStreamOptions({}, { maxTopicsPerStream: bad as never }), { code: 'SSE_ERR_INVALID_OPTION', message: /maxTopicsPerStream/ }, `route ${String(bad)}`)
  }
  const error = new TooManyTopicsError('t65', 64)
  t.match(error, { code: 'SSE_ERR_TOO_MANY_TOPICS', statusCode: 500, message: /"t65".*64/ })
  t.ok(error instanceof RangeError)
})

t.test('item 15: heartbeats are SSE only: off on ndjson and raw whatever the plugin says, refused when a route asks', async (t) => {
  for (const format of ['ndjson', 'raw'] as const) {
    t.equal(resolveStreamOptions({ heartbeat: 1000 }, { format }).heartbeat, false, `${format}: the plugin default does not apply`)
    t.equal(resolveStreamOptions({}, { format, heartbeat: false }).heartbeat, false)
    t.throws(() => resolveStreamOptions({}, { format, heartbeat: 5000 }), { code: 'SSE_ERR_INVALID_OPTION', message: /SSE comments/ })
  }
  t.equal(resolveStreamOptions({ heartbeat: 1000 }, {}).heartbeat, 1000)
  t.equal(resolveStreamOptions({}, {}).heartbeat, 15_000)
  await startApp(t, {}, (app) => {
    t.throws(() => app.get('/raw', { chunk: { format: 'raw', heartbeat: 5000 }, handler: { init () {} } }), { code: 'SSE_ERR_INVALID_OPTION' })
  })
})
