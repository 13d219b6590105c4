// example/ten-chunks.ts over a real socket (seed 004): ten chunks an interval apart, as SSE events
// that resume by Last-Event-ID and as the seed's own text lines.
import http from 'node:http'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildTenChunksApp } from '../example/ten-chunks.js'
import { eventually, openStream } from './helpers/stream.js'

const INTERVAL = 30 // the seed's second, shortened under test

async function start (t: Test, interval = INTERVAL) {
  const app = await buildTenChunksApp({ interval, heartbeat: false })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, url }
}

const lines = Array.from({ length: 10 }, (_, i) => `分片数据 ${i + 1}`)

t.test('/api/stream: ten events an interval apart, ids 1 to 10, then the stream ends', async (t) => {
  const { url } = await start(t)
  const began = Date.now()
  const stream = await openStream(`${url}/api/stream`)
  const [first] = await stream.waitFor(1)
  t.same(first, { event: undefined, id: '1', data: '分片数据 1' }, 'the first chunk at once')
  await stream.ended
  t.same(stream.events.map((e) => e.data), lines)
  t.same(stream.events.map((e) => e.id), lines.map((_, i) => String(i + 1)))
  t.ok(Date.now() - began >= 9 * INTERVAL, 'nine intervals between the first chunk and the last')
})

t.test('/api/stream: a client back with Last-Event-ID gets the rest; one that has all ten gets a 204', async (t) => {
  const { url } = await start(t)
  const rest = await openStream(`${url}/api/stream`, { headers: { 'last-event-id': '7' } })
  await rest.ended
  t.same(rest.events.map((e) => e.id), ['8', '9', '10'])
  const done = await request(`${url}/api/stream`, { headers: { 'last-event-id': '10' } })
  t.equal(done.statusCode, 204, 'EventSource stops reconnecting')
  await done.body.dump()
})

t.test('/api/stream.txt: the seed\'s bytes as text/plain, in chunks an interval apart', async (t) => {
  const { url } = await start(t)
  const began = Date.now()
  const response = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/api/stream.txt`, { agent: false }, resolve))
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/plain; charset=utf-8', 'the Content-Type the route set')
  const pieces: string[] = []
  response.setEncoding('utf8')
  for await (const piece of response) pieces.push(piece as string)
  t.equal(pieces.join(''), lines.map((line) => `${line}\n`).join(''))
  t.ok(pieces.length >= 2, 'written as it came, not in one piece')
  t.ok(Date.now() - began >= 9 * INTERVAL)
})

t.test('a client that leaves ends the generator\'s sleep and the stream at once', async (t) => {
  const { app, url } = await start(t, 10_000) // the next chunk would come in 10 s
  const response = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/api/stream.txt`, { agent: false }, resolve))
  await new Promise((resolve) => response.once('data', resolve))
  t.equal(app.sse.connections, 1)
  response.destroy()
  await eventually(() => app.sse.connections === 0, 200, 5) // within a second: the sleep was cut
  t.pass('the stream ended')
})
