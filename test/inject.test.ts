import t from 'tap'
import Fastify from 'fastify'
import { Event, noContent, ssePlugin, stop } from '../lib/index.js'

t.test('inject: a stream that ends is read whole; payloadAsStream sees the headers at once', async (t) => {
  const app = Fastify()
  await app.register(ssePlugin)
  app.get('/done', { chunk: true, handler: { init: () => stop([new Event({ data: 'a' }), new Event({ data: 'b' })]) } })
  app.get('/open', { chunk: true, handler: { init: () => new Event({ data: 'hello' }) } })
  app.get('/none', { chunk: true, handler: { init: () => noContent() } })
  t.teardown(() => app.close())
  const done = await app.inject('/done')
  t.equal(done.statusCode, 200)
  t.equal(done.body, 'data: a\n\ndata: b\n\n')
  t.equal((await app.inject('/none')).statusCode, 204)
  const open = await app.inject({ url: '/open', payloadAsStream: true })
  t.equal(open.headers['content-type'], 'text/event-stream; charset=utf-8')
  const stream = open.stream()
  const first = await new Promise<string>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk.toString())))
  t.equal(first, 'data: hello\n\n')
  stream.destroy()
})
