import t from 'tap'
import { request } from 'undici'
import { Event, stop } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { openStream } from './helpers/stream.js'

t.test('hooks run before the stream opens: headers they set are kept, and they can refuse it', async (t) => {
  let inits = 0
  const { url } = await startApp(t, {}, (app) => {
    app.addHook('onRequest', async (request, reply) => {
      reply.header('access-control-allow-origin', '*')
      reply.header('x-request-id', String(request.id))
      if (request.headers.authorization !== 'Bearer ok') return reply.code(401).send({ error: 'no' })
    })
    app.addHook('preHandler', async (_request, reply) => { reply.header('x-pre-handler', 'yes') })
    app.get('/s', { chunk: true, handler: { init: () => { inits++; return stop(new Event({ data: 'in' })) } } })
  })
  const refused = await request(`${url}/s`)
  t.equal(refused.statusCode, 401)
  await refused.body.dump()
  t.equal(inits, 0, 'no actor for a refused stream')
  const stream = await openStream(`${url}/s`, { headers: { authorization: 'Bearer ok' } })
  await stream.ended
  t.equal(stream.headers['access-control-allow-origin'], '*')
  t.ok(stream.headers['x-request-id'])
  t.equal(stream.headers['x-pre-handler'], 'yes')
  t.same(stream.events.map((e) => e.data), ['in'])
})

t.test('other onRoute hooks see a function when routes use chunked()', async (t) => {
  const seen: string[] = []
  const { chunked } = await import('../lib/index.js')
  const { url } = await startApp(t, {}, (app) => {
    app.addHook('onRoute', (route) => { seen.push(typeof route.handler) })
    app.get('/c', chunked({ init: () => stop(new Event({ data: 'c' })) }))
  })
  t.same(seen, ['function', 'function'], 'GET and its HEAD')
  const stream = await openStream(`${url}/c`)
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['c'])
})
