import http2 from 'node:http2'
import t from 'tap'
import Fastify from 'fastify'
import { Event, ssePlugin, stop } from '../lib/index.js'

t.test('HTTP/2: streams without a Connection header; ending one stream keeps the session', async (t) => {
  const app = Fastify({ http2: true })
  await app.register(ssePlugin)
  app.get('/s', { chunk: true, handler: { init: (token) => { token.send(1); token.send(2) }, handle: (n: number) => n === 2 ? stop(new Event({ data: '2' })) : new Event({ data: '1' }) } })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const session = http2.connect(url)
  t.teardown(() => session.close())
  const get = (): Promise<{ headers: http2.IncomingHttpHeaders, body: string }> => new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/s', accept: 'text/event-stream' })
    let headers: http2.IncomingHttpHeaders = {}
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (h) => { headers = h })
    stream.on('data', (chunk: string) => { body += chunk })
    stream.on('end', () => resolve({ headers, body }))
    stream.on('error', reject)
  })
  const first = await get()
  t.equal(first.headers[':status'], 200)
  t.equal(first.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(first.headers.connection, undefined)
  t.equal(first.body, 'data: 1\n\ndata: 2\n\n')
  const second = await get()
  t.equal(second.body, 'data: 1\n\ndata: 2\n\n', 'the session survived the first stream')
  t.equal(session.closed, false)
})

// A client that leaves must end its stream on HTTP/2 too. Node's compat response says
// `writableFinished: true` when its stream was reset or its session lost (Node 20, 22 and 24).
for (const leave of ['resets its stream', 'drops its session'] as const) {
  t.test(`HTTP/2: a client that ${leave} ends the stream, terminate('client-closed')`, async (t) => {
    const app = Fastify({ http2: true })
    const reasons: string[] = []
    await app.register(ssePlugin)
    app.get('/s', { chunk: true, handler: { init: (token) => { token.subscribe('h2') }, terminate: (reason) => { reasons.push(reason) } } })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => app.close())
    const session = http2.connect(url)
    t.teardown(() => session.destroy())
    const stream = session.request({ ':path': '/s', accept: 'text/event-stream' })
    stream.on('error', () => {})
    await new Promise((resolve) => stream.once('response', resolve))
    t.equal(app.sse.connections, 1)
    if (leave === 'resets its stream') stream.close(http2.constants.NGHTTP2_CANCEL)
    else session.destroy()
    const deadline = Date.now() + 5_000
    while (app.sse.connections > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(app.sse.connections, 0, 'the stream is no longer counted')
    t.same(reasons, ['client-closed'])
  })
}
