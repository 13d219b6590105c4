import type { ServerResponse } from 'node:http'
import t from 'tap'
import { request } from 'undici'
import { type CloseReason, type Format, forward } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'
import { httpServer, openStream as openResponse } from './client/helpers.js'

// Issue 11, item 2: `upstream: 'raw'` (a non-SSE chunked body relayed as it comes) and `idleTimeout`.

/** Writes `pieces` one at a time, each after the previous one was flushed and a short pause: separate chunks. */
async function writeSlowly (res: ServerResponse, pieces: string[]): Promise<void> {
  for (const piece of pieces) {
    await new Promise((resolve) => res.write(piece, resolve))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const LINES = Array.from({ length: 20 }, (_, i) => JSON.stringify({ n: i, text: `line ${i}` }) + '\n')

t.test('a raw chunked upstream is relayed as it comes, in order, on raw, ndjson and sse routes; no Last-Event-ID goes up, no retry comes down', async (t) => {
  // Lines cut across chunks: a relay that parsed or re-framed them would show.
  const pieces = LINES.join('').match(/.{1,37}/gs) as string[]
  const upstream = await httpServer(t, (_seen, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    void writeSlowly(res, pieces).then(() => res.end())
  })
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    for (const format of ['raw', 'ndjson', 'sse'] satisfies Format[]) {
      app.get(`/${format}`, {
        chunk: { format },
        handler: { ...forward(() => upstream.url, { upstream: 'raw' }), terminate: (reason) => { reasons.push(reason) } }
      })
    }
  })
  for (const format of ['raw', 'ndjson', 'sse']) {
    const stream = await openStream(`${url}/${format}`, { headers: { 'last-event-id': '3' } })
    await stream.ended
    t.equal(stream.text(), LINES.join(''), `${format}: the bytes as they came, nothing added`)
  }
  t.same(reasons, ['upstream-closed', 'upstream-closed', 'upstream-closed'])
  t.ok(upstream.requests.every((seen) => seen.headers['last-event-id'] === undefined && seen.headers.accept === undefined), 'no SSE headers go up')
})

t.test('a raw upstream\'s chunks go through transform; its 204 is a 204, another status a 502 that names only it', async (t) => {
  const upstream = await httpServer(t, (seen, res) => {
    if (seen.url === '/events?none') return res.writeHead(204).end()
    if (seen.url === '/events?broken') return res.writeHead(401, { 'content-type': 'text/plain' }).end('bad key sk-live-123')
    res.writeHead(200, { 'content-type': 'text/plain' })
    void writeSlowly(res, ['a', 'b', 'c']).then(() => res.end())
  })
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get<{ Querystring: Record<string, string> }>('/upper', {
      chunk: { format: 'raw' },
      handler: forward((request) => `${upstream.url}?${Object.keys(request.query)[0] ?? ''}`, {
        upstream: 'raw',
        transform: (chunk) => chunk.toString().toUpperCase() + '.'
      })
    })
  })
  const stream = await openStream(`${url}/upper`)
  await stream.ended
  t.equal(stream.text(), 'A.B.C.')
  const none = await request(`${url}/upper?none`)
  t.equal(none.statusCode, 204)
  await none.body.dump()
  const broken = await request(`${url}/upper?broken`)
  t.equal(broken.statusCode, 502)
  t.same(await broken.body.json(), { statusCode: 502, code: 'SSE_ERR_UPSTREAM', error: 'Bad Gateway', message: 'The upstream stream failed: 401' })
})

t.test('an upstream silent past idleTimeout is ended: the stream ends \'upstream-closed\' with its retry', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => { openResponse(res, 'retry: 4000\nid: 1\ndata: one\n\n') }) // then nothing, never ends
  const logs: Array<Record<string, unknown>> = []
  const logger = { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line)) } } }
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/quiet', { chunk: true, handler: { ...forward(() => upstream.url, { idleTimeout: 100 }), terminate: (reason) => { reasons.push(reason) } } })
  }, { logger })
  const stream = await openStream(`${url}/quiet`)
  await eventually(() => reasons.length === 1)
  await stream.ended
  t.same(reasons, ['upstream-closed'])
  t.same(stream.events.map((e) => [e.data, e.id]), [['one', '1']])
  t.same(stream.retries, [4000], 'the client comes back, as the upstream asked')
  await upstream.requests[0].closed
  t.pass('the upstream request is ended')
  t.ok(logs.some((line) => line.msg === 'the upstream stayed silent past idleTimeout: the stream ends' && line.idleTimeout === 100))
})

t.test('a silent raw upstream is ended by idleTimeout too, with no retry', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }).write('{"n":1}\n') })
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, {}, (app) => {
    app.get('/quiet', { chunk: { format: 'ndjson' }, handler: { ...forward(() => upstream.url, { upstream: 'raw', idleTimeout: 100 }), terminate: (reason) => { reasons.push(reason) } } })
  })
  const stream = await openStream(`${url}/quiet`)
  await stream.ended
  t.equal(stream.text(), '{"n":1}\n')
  t.same(reasons, ['upstream-closed'])
  await upstream.requests[0].closed
})

t.test('an upstream that keeps talking is never idle, however long the stream lasts', async (t) => {
  const EVENTS = 80
  const upstream = await httpServer(t, (_seen, res) => {
    openResponse(res)
    void writeSlowly(res, Array.from({ length: EVENTS }, (_, i) => `data: ${i}\n\n`)).then(() => new Promise((resolve) => setTimeout(resolve, 50))).then(() => res.end())
  })
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    // 80 events 5+ ms apart, the whole well past the timeout: only a gap longer than it would end the stream.
    app.get('/steady', { chunk: true, handler: { ...forward(() => upstream.url, { idleTimeout: 200 }), terminate: (reason) => { reasons.push(reason) } } })
  })
  const stream = await openStream(`${url}/steady`)
  await stream.ended
  t.equal(stream.events.length, EVENTS, 'every event arrived before the upstream ended')
  t.same(reasons, ['upstream-closed'])
})

t.test('an upstream that only sends comments (keep-alives) past idleTimeout is alive, not idle', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => {
    openResponse(res)
    // Comments only, 5 ms apart, for more than twice the timeout; then one event, then the end.
    void writeSlowly(res, [...Array.from({ length: 50 }, () => ': PROCESSING\n\n'), 'data: answer\n\n']).then(() => res.end())
  })
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/thinking', { chunk: true, handler: { ...forward(() => upstream.url, { idleTimeout: 100 }), terminate: (reason) => { reasons.push(reason) } } })
  })
  const stream = await openStream(`${url}/thinking`)
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['answer'], 'the answer after the keep-alives came through')
  t.same(reasons, ['upstream-closed'])
})
