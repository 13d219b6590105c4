import t from 'tap'
import { Agent } from 'undici'
import { connect, ClientStatusError, ClientContentTypeError, ClientEventTooLargeError, type ParsedEvent } from '../../lib/client/index.js'
import { endlessLine, httpServer, openStream, streamThenEnd, streamThenNoContent } from './helpers.js'

async function collect (iterable: AsyncIterable<ParsedEvent>, count = Infinity): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = []
  for await (const event of iterable) {
    events.push(event)
    if (events.length === count) break
  }
  return events
}

t.test('reconnects after the stream ends and resumes with Last-Event-ID', async (t) => {
  // Each response gives the two events after the one it is asked to resume from, then ends.
  const server = await httpServer(t, (req, res) => {
    const after = Number(req.headers['last-event-id'] ?? 0)
    streamThenEnd(res, `retry: 10\nid: ${after + 1}\ndata: ${after + 1}\n\nid: ${after + 2}\ndata: ${after + 2}\n\n`)
  })
  const events = await collect(connect(server.url, { retry: 60_000 }), 6)
  t.strictSame(events.map((e) => e.data), ['1', '2', '3', '4', '5', '6'])
  t.strictSame(events.map((e) => e.lastEventId), ['1', '2', '3', '4', '5', '6'])
  // A default retry of a minute would time the test out: the server's `retry: 10` was used.
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), [undefined, '2', '4'])
  t.equal(server.requests[0].headers.accept, 'text/event-stream')
  t.equal(server.requests[0].headers['cache-control'], 'no-cache')
})

t.test('the lastEventId option is the first Last-Event-ID, and events without id report it', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) streamThenEnd(res, 'retry: 5\ndata: a\n\n')
    else streamThenEnd(res, 'id: 9\ndata: b\n\n')
  })
  const events = await collect(connect(server.url, { lastEventId: '7' }), 2)
  t.strictSame(events, [
    { type: 'message', data: 'a', lastEventId: '7' },
    { type: 'message', data: 'b', lastEventId: '9' }
  ])
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), ['7', '7'])
})

t.test('an id-only block counts as the last event id for the reconnection', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) streamThenEnd(res, 'retry: 5\nid: 1\ndata: a\n\nid: 2\n\n')
    else streamThenEnd(res, 'data: b\n\n')
  })
  await collect(connect(server.url), 2)
  t.strictSame(server.requests.map((r) => r.headers['last-event-id']), [undefined, '2'])
})

t.test('a Last-Event-ID that is not ASCII goes as UTF-8 bytes', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) streamThenEnd(res, 'retry: 5\nid: caf\u00e9 \u2615\ndata: a\n\n')
    else streamThenEnd(res, 'data: b\n\n')
  })
  await collect(connect(server.url), 2)
  t.equal(Buffer.from(server.requests[1].headers['last-event-id'] as string, 'latin1').toString('utf8'), 'caf\u00e9 \u2615')
})

t.test('custom headers, method, body and dispatcher are used on every request; headers win over the defaults', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'retry: 5\nid: 3\ndata: ok\n\n'))
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  let connections = 0
  dispatcher.on('connect', () => { connections += 1 })
  await collect(connect(server.url, {
    dispatcher,
    method: 'POST',
    body: '{"q":1}',
    headers: { Authorization: 'Bearer x', 'Content-Type': 'application/json', Accept: 'text/event-stream, */*' }
  }), 2)
  for (const request of server.requests) {
    t.equal(request.method, 'POST')
    t.equal(request.body, '{"q":1}')
    t.equal(request.headers.authorization, 'Bearer x')
    t.equal(request.headers['content-type'], 'application/json')
    t.equal(request.headers.accept, 'text/event-stream, */*')
  }
  t.equal(server.requests.length, 2)
  t.ok(connections > 0, 'through the dispatcher')
})

t.test('redirects are followed, with the same headers', async (t) => {
  const server = await httpServer(t, (req, res, index) => {
    if (req.url === '/events') res.writeHead(307, { location: '/moved' }).end()
    else if (index === 1) streamThenEnd(res, 'retry: 5\nid: 1\ndata: a\n\n')
    else res.writeHead(204).end()
  })
  const events = await collect(connect(server.url, { method: 'POST', body: 'q', headers: { 'x-key': 'k' } }))
  t.strictSame(events.map((e) => e.data), ['a'])
  t.strictSame(server.requests.map((r) => [r.url, r.method, r.body, r.headers['x-key'], r.headers['last-event-id']]), [
    ['/events', 'POST', 'q', 'k', undefined],
    ['/moved', 'POST', 'q', 'k', undefined],
    ['/events', 'POST', 'q', 'k', '1'],
    ['/moved', 'POST', 'q', 'k', '1']
  ])
})

t.test('a 204 ends the iteration normally', async (t) => {
  const server = await httpServer(t, streamThenNoContent('retry: 5\ndata: last\n\n'))
  const events = await collect(connect(server.url))
  t.strictSame(events.map((e) => e.data), ['last'])
  t.equal(server.requests.length, 2)
})

t.test('another status throws SSE_ERR_CLIENT_STATUS with the status', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(500).end('boom'))
  const error = await collect(connect(server.url)).catch((error: unknown) => error)
  t.type(error, ClientStatusError)
  t.match(error, { code: 'SSE_ERR_CLIENT_STATUS', status: 500, retryAfter: undefined })
  t.equal(server.requests.length, 1)
})

t.test('a 503 without Retry-After is not retried', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(503).end())
  await t.rejects(collect(connect(server.url)), { code: 'SSE_ERR_CLIENT_STATUS', status: 503 })
  t.equal(server.requests.length, 1)
})

t.test('a 200 that is not text/event-stream throws SSE_ERR_CLIENT_CONTENT_TYPE', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  const error = await collect(connect(server.url)).catch((error: unknown) => error)
  t.type(error, ClientContentTypeError)
  t.match(error, { code: 'SSE_ERR_CLIENT_CONTENT_TYPE', status: 200, contentType: 'application/json' })
})

t.test('a 200 without a content type is refused too; parameters and case are fine', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) {
      res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' }).end('retry: 5\ndata: a\n\n')
    } else {
      res.removeHeader('content-type')
      res.writeHead(200).end('data: b\n\n')
    }
  })
  const events: string[] = []
  await t.rejects(async () => { for await (const event of connect(server.url)) events.push(event.data) }, { code: 'SSE_ERR_CLIENT_CONTENT_TYPE', contentType: '' })
  t.strictSame(events, ['a'])
})

t.test('a 429 or 503 with Retry-After (seconds or an HTTP date) is tried again', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index === 0) res.writeHead(429, { 'retry-after': '0' }).end()
    else if (index === 1) res.writeHead(503, { 'retry-after': new Date(Date.now() - 1000).toUTCString() }).end()
    else streamThenEnd(res, 'data: open\n\n')
  })
  // A default retry of a minute would time the test out: Retry-After was used.
  const events = await collect(connect(server.url, { retry: 60_000 }), 1)
  t.strictSame(events.map((e) => e.data), ['open'])
  t.equal(server.requests.length, 3)
})

t.test('a network failure before the stream opens is retried with backoff', async (t) => {
  const server = await httpServer(t, (_req, res, index) => {
    if (index < 2) res.socket?.destroy()
    else streamThenEnd(res, 'data: at last\n\n')
  })
  const events = await collect(connect(server.url, { retry: 5 }), 1)
  t.strictSame(events.map((e) => e.data), ['at last'])
  t.equal(server.requests.length, 3)
})

t.test('a stream cut in the middle is resumed', async (t) => {
  const server = await httpServer(t, (req, res, index) => {
    if (index === 0) {
      openStream(res, 'retry: 5\nid: 1\ndata: a\n\nid: 2\ndata: cut sho')
      setTimeout(() => res.socket?.destroy(), 10)
    } else {
      streamThenEnd(res, `id: 2\ndata: b (after ${String(req.headers['last-event-id'])})\n\n`)
    }
  })
  const events = await collect(connect(server.url), 2)
  t.strictSame(events.map((e) => e.data), ['a', 'b (after 1)'])
})

t.test('a line past maxEventSize ends the request and throws SSE_ERR_CLIENT_EVENT_TOO_LARGE, not retried', async (t) => {
  const server = await httpServer(t, (_req, res) => endlessLine(res, 'retry: 5\nid: 1\ndata: before\n\n'))
  const events: string[] = []
  const error = await (async () => {
    for await (const event of connect(server.url, { maxEventSize: 64 * 1024 })) events.push(event.data)
  })().catch((error: unknown) => error)
  t.type(error, ClientEventTooLargeError)
  t.match(error, { code: 'SSE_ERR_CLIENT_EVENT_TOO_LARGE', limit: 64 * 1024 })
  t.strictSame(events, ['before'], 'the events before it are delivered')
  await server.requests[0].closed
  t.equal(server.requests.length, 1, 'final: the server would send the same again')
})

t.test('a maxEventSize that is not a positive integer throws from connect()', async (t) => {
  t.throws(() => connect('http://127.0.0.1:1/', { maxEventSize: 0 }), { code: 'SSE_ERR_CLIENT_INVALID_OPTION' })
})

t.test('break closes the request at once: the server sees the socket close', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: one\n\ndata: two\n\n'))
  const events = await collect(connect(server.url), 1)
  t.strictSame(events.map((e) => e.data), ['one'])
  await server.requests[0].closed
  t.pass('the server saw the close')
})

t.test('aborting the signal closes the request and throws its reason', async (t) => {
  const server = await httpServer(t, (_req, res) => openStream(res, 'data: one\n\n'))
  const controller = new AbortController()
  const events: string[] = []
  const reason = new Error('enough')
  await t.rejects(async () => {
    for await (const event of connect(server.url, { signal: controller.signal })) {
      events.push(event.data)
      setImmediate(() => controller.abort(reason))
    }
  }, reason)
  t.strictSame(events, ['one'])
  await server.requests[0].closed
  t.pass('the server saw the close')
})

t.test('aborting while waiting to reconnect ends at once', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'data: one\n\n'))
  const controller = new AbortController()
  await t.rejects(async () => {
    for await (const event of connect(server.url, { signal: controller.signal, retry: 60_000 })) {
      t.equal(event.data, 'one')
      controller.abort()
    }
  }, { name: 'AbortError' })
  t.equal(server.requests.length, 1)
})

t.test('aborting during a long Retry-After ends at once', async (t) => {
  const controller = new AbortController()
  const server = await httpServer(t, (_req, res) => {
    res.writeHead(503, { 'retry-after': '3600' }).end()
    setTimeout(() => controller.abort(), 20)
  })
  await t.rejects(collect(connect(server.url, { signal: controller.signal })), { name: 'AbortError' })
  t.equal(server.requests.length, 1)
})

t.test('aborting while the request is on its way ends it', async (t) => {
  const server = await httpServer(t, () => {})
  const controller = new AbortController()
  const iteration = collect(connect(server.url, { signal: controller.signal }))
  while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve))
  controller.abort()
  await t.rejects(iteration, { name: 'AbortError' })
  await server.requests[0].closed
})

t.test('an aborted signal makes no request; nothing is sent before the first next()', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'data: a\n\n'))
  const iterable = connect(server.url, { signal: AbortSignal.abort() })
  const iterator = iterable[Symbol.asyncIterator]()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(server.requests.length, 0, 'lazy')
  await t.rejects(iterator.next(), { name: 'AbortError' })
  t.equal(server.requests.length, 0)
})

t.test('an invalid request is not retried', async (t) => {
  await t.rejects(collect(connect('http://127.0.0.1:1/', { headers: { 'x-bad': 'a\r\nb' } })), { code: 'UND_ERR_INVALID_ARG' })
  await t.rejects(collect(connect('not a url')), TypeError)
})
