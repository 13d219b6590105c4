// example/stream-wrapper.ts over real sockets (seed 004): forward() relays the ten-chunks upstream,
// passes Last-Event-ID up, and lets the upstream go the moment the client leaves.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildStreamWrapperApp } from '../example/stream-wrapper.js'
import { buildTenChunksApp } from '../example/ten-chunks.js'
import { eventually, openStream } from './helpers/stream.js'

const INTERVAL = 20

async function start (t: Test, upstream?: string, interval = INTERVAL) {
  const app = await buildStreamWrapperApp({ interval, heartbeat: false, upstream })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, url }
}

const lines = Array.from({ length: 10 }, (_, i) => `分片数据 ${i + 1}`)

t.test('/api/stream-wrapper relays the upstream\'s events and ids, then ends with it', async (t) => {
  const { url } = await start(t)
  const stream = await openStream(`${url}/api/stream-wrapper`)
  t.equal(stream.status, 200)
  await stream.ended
  t.same(stream.events.map((e) => [e.id, e.data]), lines.map((line, i) => [String(i + 1), line]))
})

t.test('Last-Event-ID goes up: the rest, or the upstream\'s 204', async (t) => {
  const { url } = await start(t)
  const rest = await openStream(`${url}/api/stream-wrapper`, { headers: { 'last-event-id': '8' } })
  await rest.ended
  t.same(rest.events.map((e) => e.id), ['9', '10'])
  const done = await request(`${url}/api/stream-wrapper`, { headers: { 'last-event-id': '10' } })
  t.equal(done.statusCode, 204)
  await done.body.dump()
})

t.test('/api/stream-wrapper.txt relays the text upstream as it comes', async (t) => {
  const { url } = await start(t)
  const response = await request(`${url}/api/stream-wrapper.txt`)
  t.equal(response.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(await response.body.text(), lines.map((line) => `${line}\n`).join(''))
})

t.test('the wrapper stops when the client goes away, and so does its upstream', async (t) => {
  const { app, url } = await start(t, undefined, 10_000) // the upstream's next chunk would come in 10 s
  for (const path of ['/api/stream-wrapper', '/api/stream-wrapper.txt']) {
    const response = await new Promise<http.IncomingMessage>((resolve) => http.get(url + path, { agent: false }, resolve))
    await new Promise((resolve) => response.once('data', resolve))
    t.equal(app.sse.connections, 2, `${path}: the wrapper and its upstream, both streams of this app`)
    response.destroy()
    await eventually(() => app.sse.connections === 0, 200, 5)
    t.pass(`${path}: both ended within a second, long before the upstream's next chunk`)
  }
})

t.test('the upstream may be another server', async (t) => {
  const upstream = await buildTenChunksApp({ interval: INTERVAL, heartbeat: false })
  const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => upstream.close())
  const { url } = await start(t, upstreamUrl)
  const stream = await openStream(`${url}/api/stream-wrapper`, { headers: { 'last-event-id': '5' } })
  await eventually(() => upstream.sse.connections === 1)
  await stream.ended
  t.same(stream.events.map((e) => e.data), lines.slice(5))
})

// The seed's {:error, reason} -> {:halt, ...}: an upstream cut after it opened ends the stream, and the
// client is told when to come back.
t.test('an upstream whose connection is cut in the middle ends the stream with a retry', async (t) => {
  const upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('id: 1\ndata: one\n\nid: 2\ndata: two\n\n')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { upstream.closeAllConnections(); upstream.close() })
  const { app, url } = await start(t, `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`)
  const stream = await openStream(`${url}/api/stream-wrapper`)
  await stream.ended
  t.same(stream.events.map((e) => [e.id, e.data]), [['1', 'one'], ['2', 'two']])
  t.equal(stream.retries.length, 1, 'a retry: EventSource comes back with Last-Event-ID 2')
  await eventually(() => app.sse.connections === 0)
})
