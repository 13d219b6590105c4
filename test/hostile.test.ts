import http from 'node:http'
import t from 'tap'
import { request } from 'undici'
import { type ChunkedHandler, Event, stop } from '../lib/index.js'
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
    app.get('/sent', async (request, reply) => {
      reply.send('done')
      await reply.chunk({}).catch((error: { code: string }) => { code = error.code })
      return reply
    })
  })
  const response = await request(`${url}/sent`)
  t.equal(await response.body.text(), 'done')
  t.equal(code, 'SSE_ERR_REPLY_SENT')
})

t.test('invalid handlers and options are refused with a code', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { ssePlugin, chunked } = await import('../lib/index.js')
  t.throws(() => chunked(42 as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  t.throws(() => chunked({ handle: 'no' } as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  t.throws(() => chunked(null as never), { code: 'SSE_ERR_INVALID_HANDLER' })
  for (const options of [{ heartbeat: -1 }, { mailbox: { overflow: 'explode' } }, { retry: 1.5 }, { maxConnections: 0 }, { highWaterMark: Number.NaN }]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(ssePlugin, options as never) }, { code: 'SSE_ERR_INVALID_OPTION' }, JSON.stringify(options))
  }
  const app = Fastify()
  await app.register(ssePlugin)
  t.throws(() => app.get('/x', { chunk: { format: 'xml' as never }, handler: {} }), { code: 'SSE_ERR_INVALID_OPTION' })
  const bare = Fastify()
  bare.get('/x', chunked({}))
  const response = await bare.inject('/x')
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'SSE_ERR_INVALID_HANDLER')
})
