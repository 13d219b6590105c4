import t, { type Test } from 'tap'
import { request } from 'undici'
import { connect } from '../lib/client/index.js'
import { type CloseReason, Event, forward, stop } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'
import { httpServer, openStream as openResponse, streamThenEnd, type TestServer } from './client/helpers.js'
import { captureLogs } from './helpers/logs.js'

// Issue 11, item 2: forward() with a method and a body, and a transform (POST APIs such as LLM completions).

/** An OpenAI-style completion API: answers each request with `tokens` as chunks, then `[DONE]`, and stays open. */
function completions (t: Test, tokens: string[]): Promise<TestServer> {
  return httpServer(t, (_seen, res) => {
    openResponse(res)
    for (const content of tokens) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`)
    res.write('data: [DONE]\n\n') // the response stays open: [DONE], not its end, finishes the answer
  })
}

/** The token text of each chunk; `[DONE]` ends the stream with a last `done` event. */
function tokenText (event: { data: string }): Event | ReturnType<typeof stop> {
  if (event.data === '[DONE]') return stop(new Event({ event: 'done', data: '' }))
  return new Event({ data: (JSON.parse(event.data) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content })
}

t.test('a POST with a JSON body to an OpenAI-style upstream: transformed to the token text, [DONE] ends the stream cleanly', async (t) => {
  const upstream = await completions(t, ['Hel', 'lo', ' world'])
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/chat', {
      chunk: true,
      handler: {
        ...forward(() => upstream.url, {
          method: 'POST',
          headers: { authorization: 'Bearer sk-test' },
          body: { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] },
          transform: tokenText
        }),
        terminate: (reason) => { reasons.push(reason) }
      }
    })
  })
  const stream = await openStream(`${url}/chat`, { headers: { 'last-event-id': '7' } })
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['Hel', 'lo', ' world', ''])
  t.equal(stream.events[3].event, 'done')
  t.same(stream.retries, [], 'a finished answer is no reason to come back')
  t.same(reasons, ['stopped'])
  const [seen] = upstream.requests
  t.equal(seen.method, 'POST')
  t.equal(seen.headers['content-type'], 'application/json')
  t.equal(seen.headers.authorization, 'Bearer sk-test')
  t.equal(seen.headers['last-event-id'], '7', 'an SSE upstream gets the Last-Event-ID, POST or not')
  t.same(JSON.parse(seen.body), { model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  await seen.closed
  t.pass('the upstream request is ended once the answer is done')
})

t.test('the body may be an async function of the request: a POST downstream read with connect()', async (t) => {
  const upstream = await completions(t, ['4'])
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.post<{ Body: { question: string } }>('/ask', {
      chunk: true,
      handler: forward(() => upstream.url, {
        method: 'POST',
        body: async (request) => {
          if (typeof request.body.question !== 'string') throw Object.assign(new Error('a question is required'), { statusCode: 400 })
          return { messages: [{ role: 'user', content: request.body.question }], user: request.headers['x-user'] }
        },
        transform: tokenText
      })
    })
  })
  const answer: string[] = []
  for await (const event of connect(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'ada' }, body: JSON.stringify({ question: '2 + 2?' }) })) {
    if (event.type === 'done') break
    answer.push(event.data)
  }
  t.same(answer, ['4'])
  const refused = await request(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(refused.statusCode, 400, 'what the body function throws goes through Fastify')
  await refused.body.dump()
  t.equal(upstream.requests.length, 1, 'and no upstream request is made')
  t.same(JSON.parse(upstream.requests[0].body), { messages: [{ role: 'user', content: '2 + 2?' }], user: 'ada' })
  t.equal(upstream.requests[0].headers['content-type'], 'application/json')
})

t.test('a string body goes as text/plain unless headers say otherwise; a body function that returns nothing sends none', async (t) => {
  const upstream = await completions(t, [])
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/text', { chunk: true, handler: forward(() => upstream.url, { method: 'POST', body: 'plain', transform: tokenText }) })
    app.get('/typed', { chunk: true, handler: forward(() => upstream.url, { method: 'put', body: () => '<q/>', headers: { 'Content-Type': 'application/xml' }, transform: tokenText }) })
    app.get('/none', { chunk: true, handler: forward(() => upstream.url, { method: 'POST', body: () => undefined, transform: tokenText }) })
  })
  for (const path of ['/text', '/typed', '/none']) await (await openStream(url + path)).ended
  t.match(upstream.requests, [
    { method: 'POST', body: 'plain', headers: { 'content-type': 'text/plain;charset=UTF-8' } },
    { method: 'PUT', body: '<q/>', headers: { 'content-type': 'application/xml' } },
    { method: 'POST', body: '' }
  ])
  t.equal(upstream.requests[2].headers['content-type'], undefined)
})

t.test('an SSE upstream on an ndjson route: transformed events are JSON lines, and its end writes no retry there', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => { streamThenEnd(res, 'retry: 50\ndata: {"n":1}\n\ndata: {"n":2}\n\n') })
  const { url } = await startApp(t, {}, (app) => {
    app.get('/lines', { chunk: { format: 'ndjson' }, handler: forward(() => upstream.url, { transform: (event) => new Event({ data: JSON.parse(event.data) }) }) })
  })
  const stream = await openStream(`${url}/lines`)
  await stream.ended
  t.equal(stream.text(), '{"n":1}\n{"n":2}\n')
})

t.test('a transform that returns nothing skips the event; token.state stays the handler\'s own', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => {
    openResponse(res)
    res.end('id: 1\ndata: a\n\nevent: ping\ndata: \n\nid: 2\ndata: b\n\n')
  })
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/filtered', {
      chunk: true,
      handler: forward<any, number>(() => upstream.url, {
        async transform (event, token) {
          if (event.type === 'ping') return undefined
          token.state = (token.state ?? 0) + 1
          return new Event({ data: `${token.state}:${event.data}`, id: event.lastEventId })
        }
      })
    })
  })
  const stream = await openStream(`${url}/filtered`)
  await stream.ended
  t.same(stream.events.map((e) => [e.data, e.id]), [['1:a', '1'], ['2:b', '2']])
  t.equal(stream.retries.length, 1, 'the upstream ended: the client is told when to come back')
})

t.test('a transform that throws ends its stream through handleError (\'error\'); nothing of the error reaches the client', async (t) => {
  const upstream = await httpServer(t, (_seen, res) => { openResponse(res, 'data: fine\n\ndata: bad\n\n') })
  const { logs, logger } = captureLogs()
  const seen: { errors: string[], reasons: CloseReason[] } = { errors: [], reasons: [] }
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/fragile', {
      chunk: true,
      handler: {
        ...forward(() => upstream.url, {
          transform (event) {
            if (event.data === 'bad') throw new Error('parse failed near db 10.0.3.7:5432')
            return new Event({ data: event.data })
          }
        }),
        handleError: (error) => { seen.errors.push(error.message) },
        terminate: (reason) => { seen.reasons.push(reason) }
      }
    })
  }, { logger })
  const stream = await openStream(`${url}/fragile`)
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['fine'])
  t.notOk(stream.text().includes('10.0.3.7'), 'no error text on the wire')
  t.same(seen.errors, ['parse failed near db 10.0.3.7:5432'])
  t.same(seen.reasons, ['error'])
  t.ok(logs.some((line) => line.msg === 'chunked handler failed: the stream ends'), 'logged')
  await upstream.requests[0].closed
  t.pass('the upstream request is ended')
  const again = await openStream(`${url}/fragile`)
  t.same((await again.waitFor(1)).map((e) => e.data), ['fine'], 'the server goes on')
  again.close()
  await eventually(() => app.sse.connections === 0)
})

t.test('forward refuses an unknown option key when the route is declared', async (t) => {
  t.throws(() => forward(() => 'http://127.0.0.1:1/', { metod: 'POST' } as never), { code: 'SSE_ERR_INVALID_OPTION', message: /forward\.metod.*unknown option/ })
})

t.test('forward refuses a bad option value when the route is declared', async (t) => {
  const target = (): string => 'http://127.0.0.1:1/'
  const bad: Array<[string, unknown]> = [
    ['forward.idleTimeout', { idleTimeout: -1 }],
    ['forward.idleTimeout', { idleTimeout: 0 }],
    ['forward.idleTimeout', { idleTimeout: 2 ** 31 }],
    ['forward.idleTimeout', { idleTimeout: '5000' }],
    ['forward.method', { method: 42 }],
    ['forward.method', { method: 'PO ST' }],
    ['forward.method', { method: 'connect' }],
    ['forward.body', { body: { q: 1 } }], // GET has no body
    ['forward.body', { method: 'POST', body: new Date() }],
    ['forward.body', { method: 'POST', body: 42 }],
    ['forward.body', { method: 'POST', body: { n: 1n } }],
    ['forward.transform', { transform: 'upper' }],
    ['forward.upstream', { upstream: 'json' }],
    ['forward.maxEventSize', { upstream: 'raw', maxEventSize: 1024 }],
    ['forward.headers', { headers: 'x-a: 1' }],
    ['forward.headers.x-n', { headers: { 'x-n': 1 } }]
  ]
  for (const [option, options] of bad) {
    t.throws(() => forward(target, options as never), { code: 'SSE_ERR_INVALID_OPTION', message: new RegExp(`"${option.replace(/\./g, '\\.')}"`) }, JSON.stringify(options, (_k, v: unknown) => typeof v === 'bigint' ? 'bigint' : v))
  }
  t.throws(() => forward('http://127.0.0.1:1/' as never), { code: 'SSE_ERR_INVALID_OPTION' }, 'a target that is not a function')
  t.doesNotThrow(() => forward(target, { method: 'post', body: new Uint8Array([1]), idleTimeout: Infinity, upstream: 'sse' }))
})
