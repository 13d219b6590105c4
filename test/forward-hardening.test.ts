import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { type ChunkedHandler, type CloseReason, Event, forward } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'
import { stuckClient } from './helpers/stuck-client.js'
import { httpServer, openStream as openResponse } from './client/helpers.js'
import { captureLogs } from './helpers/logs.js'

// Issue 9, forward side: backpressure (item 5), what a 502 tells the client (item 12), a client that
// leaves while the upstream opens (item 11).

const MiB = 1 << 20

/** A port on 127.0.0.1 nobody listens on: one the OS just handed out and took back. */
async function deadPort (): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/**
 * A client that never reads, behind `handler` (a forward() of 300 events of 1 MiB): the upstream must
 * end up waiting for drain with only a few MiB written, then see its request aborted when the client
 * leaves. `holdMs`: how much longer the client stays stuck once the upstream is held back.
 */
async function holdsBack (t: Test, handler: (url: string) => ChunkedHandler, holdMs = 0): Promise<void> {
  const EVENTS = 300
  const event = Buffer.from(`data: ${'x'.repeat(MiB - 8)}\n\n`) // 1 MiB on the wire, one buffer written again and again
  // `accepted`: the events the upstream's `res.write` took (the one that returned false included).
  const upstream = { accepted: 0, blocked: false, closed: false }
  const server = await httpServer(t, (_seen, res) => {
    openResponse(res)
    res.on('close', () => { upstream.closed = true })
    const more = (): void => {
      upstream.blocked = false
      while (upstream.accepted < EVENTS && !res.destroyed) {
        upstream.accepted++
        if (!res.write(event)) {
          upstream.blocked = true
          return // until `drain`
        }
      }
    }
    res.on('drain', more)
    more()
  })
  const reasons: CloseReason[] = []
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', { chunk: true, handler: { ...handler(server.url), terminate: (reason) => { reasons.push(reason) } } })
  })
  const client = await stuckClient(url, '/wrapper')
  t.teardown(() => { client.kill() })

  // Settled: the upstream has written all it could (blocked, or all of it) and nothing moved for a while.
  let last = -1
  let still = 0
  await eventually(() => {
    still = upstream.accepted === last ? still + 1 : 0
    last = upstream.accepted
    return server.requests.length === 1 && (upstream.blocked || upstream.accepted === EVENTS) && still >= 25
  }, 1000, 20)
  t.ok(upstream.blocked, 'the upstream waits for drain: TCP backpressure reached it')
  t.ok(upstream.accepted < 64, `the upstream could write ${upstream.accepted} of ${EVENTS} MiB, not all of them`)
  if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs))
  t.equal(upstream.closed, false, 'the stream stays open for a slow client')

  client.kill()
  await eventually(() => upstream.closed)
  t.pass('the client left: the upstream request is aborted')
  await eventually(() => reasons.length === 1 && app.sse.connections === 0)
  t.same(reasons, ['client-closed'])
}

t.test('item 5: forward reads the upstream only as fast as the client reads; a client that never reads holds the upstream back', async (t) => {
  await holdsBack(t, (url) => forward(() => url))
})

t.test('issue 11: with a transform (async, two chunks an event), a client that never reads still holds the upstream back', async (t) => {
  await holdsBack(t, (url) => forward(() => url, {
    transform: async (event) => [new Event({ data: event.data.length }), new Event({ data: event.data })]
  }))
})

t.test('issue 11: a raw upstream is held back the same way', async (t) => {
  await holdsBack(t, (url) => forward(() => url, { upstream: 'raw' }))
})

t.test('issue 11: a client that never reads does not make the upstream idle: idleTimeout counts only the waits for the upstream', async (t) => {
  await holdsBack(t, (url) => forward(() => url, { idleTimeout: 300 }), 1000) // held back for over a second, never cut
})

t.test('item 12: an unreachable upstream is a 502 that names no host, port or network error; the log has the detail and its code', async (t) => {
  const port = await deadPort()
  const { logs, logger } = captureLogs()
  const { url } = await startApp(t, {}, (app) => {
    app.get('/wrapper', { chunk: true, handler: forward(() => `http://127.0.0.1:${port}/events`) })
  }, { logger })
  const response = await request(`${url}/wrapper`)
  t.equal(response.statusCode, 502)
  const body = await response.body.text()
  t.notOk(body.includes('127.0.0.1'), 'no host')
  t.notOk(body.includes(String(port)), 'no port')
  t.notOk(/ECONNREFUSED|connect/i.test(body), 'no network error text')
  t.same(JSON.parse(body), { statusCode: 502, code: 'SSE_ERR_UPSTREAM', error: 'Bad Gateway', message: 'The upstream stream failed: unreachable' })
  t.ok(logs.some((line) => line.msg === 'the upstream is unreachable' && line.code === 'ECONNREFUSED'), 'logged with the error code')
})

t.test('item 12: an upstream that refuses the stream is a 502 that names only its status', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => { res.writeHead(500, { 'content-type': 'text/plain' }).end('db at 10.0.3.7:5432 is down') })
  const { logs, logger } = captureLogs()
  const { url } = await startApp(t, {}, (app) => {
    app.get('/wrapper', { chunk: true, handler: forward(() => upstream.url) })
  }, { logger })
  const response = await request(`${url}/wrapper`)
  t.equal(response.statusCode, 502)
  t.same(await response.body.json(), { statusCode: 502, code: 'SSE_ERR_UPSTREAM', error: 'Bad Gateway', message: 'The upstream stream failed: 500' })
  t.ok(logs.some((line) => line.msg === 'the upstream refused the stream' && line.code === 'SSE_ERR_CLIENT_STATUS' && line.status === 500))
})

t.test('item 11: a client that leaves while forward() waits for the upstream headers closes the upstream request at once', async (t) => {
  const upstream = await httpServer(t, () => {}) // takes the request, never answers
  const { logs, logger } = captureLogs()
  const reasons: CloseReason[] = []
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', { chunk: true, handler: { ...forward(() => upstream.url), terminate: (reason) => { reasons.push(reason) } } })
  }, { logger })
  const socket = net.connect({ port: Number(new URL(url).port), host: '127.0.0.1' })
  socket.on('error', () => {})
  socket.write('GET /wrapper HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n')
  await eventually(() => upstream.requests.length === 1)
  let closed = false
  void upstream.requests[0].closed.then(() => { closed = true })

  socket.destroy()
  await eventually(() => closed) // the upstream's headers timeout is 30 s: this waits 5 s at most
  t.pass('the upstream saw its request closed')
  await eventually(() => reasons.length === 1 && app.sse.connections === 0)
  t.same(reasons, ['client-closed'])
  t.same(logs, [], 'a client leaving is not an error')
})

t.test('item 3 (forward side): a stream still opening its upstream at shutdown gets a 200 with a retry, not a 502', async (t) => {
  const upstream = await httpServer(t, () => {}) // takes the request, never answers
  const { logs, logger } = captureLogs()
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wrapper', { chunk: true, handler: forward(() => upstream.url) })
  }, { logger })
  const opening = openStream(`${url}/wrapper`)
  await eventually(() => upstream.requests.length === 1)
  const closing = app.close()
  const stream = await opening
  await stream.ended
  await closing
  t.equal(stream.status, 200)
  t.equal(stream.retries.length, 1, 'told when to come back')
  await upstream.requests[0].closed
  t.same(logs, [], 'a shutdown is not an upstream failure')
})
