import net from 'node:net'
import t from 'tap'
import { type ChunkedHandler, Event } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

/** A client that sends a request and never reads: the server's socket fills up. */
async function nonReadingClient (url: string, path: string): Promise<net.Socket> {
  const { port } = new URL(url)
  const socket = net.connect({ port: Number(port), host: '127.0.0.1' })
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.pause()
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
  return socket
}

const big = 'x'.repeat(16 * 1024)

t.test('a client that never reads meets the overflow policy while the others keep receiving', async (t) => {
  const ids: string[] = []
  const reasons: string[] = []
  const Feed: ChunkedHandler = {
    init (token) { ids.push(token.id) },
    handle: (msg: number) => new Event({ data: `${msg}:${big}` }),
    terminate: (reason) => { reasons.push(reason) }
  }
  const { app, url } = await startApp(t, { highWaterMark: 64 * 1024, mailbox: { limit: 50 } }, (app) => {
    app.get('/feed', { chunk: true, handler: Feed })
  })
  const stuck = await nonReadingClient(url, '/feed')
  t.teardown(() => stuck.destroy())
  const reader = await openStream(`${url}/feed`)
  await eventually(() => ids.length === 2)
  let sent = 0
  while (reasons.length === 0 && sent < 5000) {
    for (const id of ids) app.sse.notify(id, sent)
    sent++
    if (sent % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(reasons, ['overflow'], 'the stuck stream was disconnected')
  await reader.waitFor(sent)
  t.same(reader.events.map((e) => Number(e.data.split(':')[0])), Array.from({ length: sent }, (_, i) => i), 'the reader got every event, in order')
  t.equal(app.sse.stats().overflowDisconnects, 1)
  reader.close()
})

t.test('drop-oldest drops the handler\'s own messages and counts them', async (t) => {
  let id = ''
  const { app, url } = await startApp(t, { highWaterMark: 16 * 1024, mailbox: { limit: 5, overflow: 'drop-oldest' } }, (app) => {
    app.get('/feed', {
      chunk: true,
      handler: { init (token) { id = token.id }, handle: (msg: number) => new Event({ data: `${msg}:${big}` }) }
    })
  })
  const stuck = await nonReadingClient(url, '/feed')
  t.teardown(() => stuck.destroy())
  await eventually(() => id !== '')
  for (let i = 0; i < 200; i++) app.sse.notify(id, i)
  t.ok(app.sse.stats().messagesDropped > 0)
  t.equal(app.sse.connections, 1, 'the stream stays open')
  t.equal(app.sse.stats().overflowDisconnects, 0)
})

t.test('a socket that stays full for drainTimeout is a dead consumer', async (t) => {
  let id = ''
  const reasons: string[] = []
  const { app, url } = await startApp(t, { highWaterMark: 16 * 1024, drainTimeout: 100, mailbox: { limit: 100_000 } }, (app) => {
    app.get('/feed', {
      chunk: true,
      handler: { init (token) { id = token.id }, handle: () => new Event({ data: big }), terminate: (r) => { reasons.push(r) } }
    })
  })
  const stuck = await nonReadingClient(url, '/feed')
  t.teardown(() => stuck.destroy())
  await eventually(() => id !== '')
  // Enough to fill the kernel's buffers on both sides of the loopback connection, then ours.
  for (let i = 0; i < 3000; i++) app.sse.notify(id, i)
  await eventually(() => reasons.length === 1)
  t.ok(app.sse.stats().messagesDropped > 0, 'what waited in the mailbox is counted as dropped')
  t.same(reasons, ['overflow'])
  t.equal(app.sse.connections, 0)
})
