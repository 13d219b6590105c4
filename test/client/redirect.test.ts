import t from 'tap'
import { connect, ClientRedirectError, MAX_REDIRECTS, type ParsedEvent } from '../../lib/client/index.js'
import { httpServer, streamThenEnd, type SeenRequest } from './helpers.js'

// Two servers on 127.0.0.1 and different ports are two origins (scheme, host and port).

async function collect (iterable: AsyncIterable<ParsedEvent>): Promise<string[]> {
  const data: string[] = []
  for await (const event of iterable) data.push(event.data)
  return data
}

const credentials = { authorization: 'Bearer secret', 'x-api-key': 'key', cookie: 'session=s' }

// What a request carried of the caller's headers, and the client's own.
function carried (request: SeenRequest): unknown[] {
  const { headers } = request
  return [request.url, headers.authorization, headers['x-api-key'], headers.cookie, headers['last-event-id'], headers.accept, headers['cache-control']]
}

t.test('item 16: a same-origin redirect keeps every header and Last-Event-ID', async (t) => {
  const server = await httpServer(t, (req, res, index) => {
    if (req.url === '/events') res.writeHead(302, { location: '/moved' }).end()
    else if (index === 1) streamThenEnd(res, 'retry: 5\nid: 8\ndata: a\n\n')
    else res.writeHead(204).end()
  })
  t.strictSame(await collect(connect(server.url, { headers: credentials, lastEventId: '7' })), ['a'])
  const sent = ['Bearer secret', 'key', 'session=s']
  t.strictSame(server.requests.map(carried), [
    ['/events', ...sent, '7', 'text/event-stream', 'no-cache'],
    ['/moved', ...sent, '7', 'text/event-stream', 'no-cache'],
    ['/events', ...sent, '8', 'text/event-stream', 'no-cache'],
    ['/moved', ...sent, '8', 'text/event-stream', 'no-cache']
  ])
})

t.test('item 16: a cross-origin redirect drops every user header and Last-Event-ID, also when it comes back', async (t) => {
  let first = ''
  const other = await httpServer(t, (_req, res) => res.writeHead(307, { location: new URL('/back', first).href }).end())
  const server = await httpServer(t, (req, res, index) => {
    if (req.url === '/events') res.writeHead(307, { location: new URL('/hop', other.url).href }).end()
    else if (index === 1) streamThenEnd(res, 'retry: 5\nid: 8\ndata: a\n\n')
    else res.writeHead(204).end()
  })
  first = server.url
  const headers = { ...credentials, 'content-type': 'text/plain', accept: 'text/event-stream, */*' }
  t.strictSame(await collect(connect(server.url, { method: 'POST', body: 'q', headers, lastEventId: '7' })), ['a'])
  const none = [undefined, undefined, undefined, undefined, 'text/event-stream', 'no-cache']
  t.strictSame(server.requests.map(carried), [
    ['/events', 'Bearer secret', 'key', 'session=s', '7', 'text/event-stream, */*', 'no-cache'],
    ['/back', ...none],
    ['/events', 'Bearer secret', 'key', 'session=s', '8', 'text/event-stream, */*', 'no-cache'],
    ['/back', ...none]
  ])
  t.strictSame(other.requests.map(carried), [['/hop', ...none], ['/hop', ...none]])
  t.strictSame(other.requests.map((r) => [r.method, r.body, r.headers['content-type']]), [['POST', 'q', undefined], ['POST', 'q', undefined]], '307 keeps the method and body')
})

t.test(`item 16: more than ${MAX_REDIRECTS} redirects in a row end with SSE_ERR_CLIENT_REDIRECT, not retried`, async (t) => {
  const server = await httpServer(t, (_req, res, index) => res.writeHead(302, { location: `/loop/${index + 1}` }).end())
  const error = await collect(connect(server.url, { retry: 5 })).catch((error: unknown) => error)
  t.type(error, ClientRedirectError)
  t.match(error, { code: 'SSE_ERR_CLIENT_REDIRECT', status: 302, message: /more than 20 redirects/ })
  t.equal(server.requests.length, MAX_REDIRECTS + 1, 'the first request and 20 redirects followed')
})

t.test('item 16: a 303 after a POST, and a 301 or 302 after a POST, become a GET without body', async (t) => {
  for (const status of [303, 301, 302]) {
    const server = await httpServer(t, (req, res, index) => {
      if (req.url === '/events') res.writeHead(status, { location: '/result' }).end()
      else if (index === 1) streamThenEnd(res, 'retry: 5\ndata: a\n\n')
      else res.writeHead(204).end()
    })
    const headers = { 'content-type': 'application/json', 'content-language': 'en', 'x-key': 'k' }
    t.strictSame(await collect(connect(server.url, { method: 'POST', body: '{"q":1}', headers })), ['a'])
    const [post, get] = server.requests
    t.strictSame([post.method, post.body, post.headers['content-type']], ['POST', '{"q":1}', 'application/json'])
    t.strictSame([get.method, get.body, get.headers['content-type'], get.headers['content-language'], get.headers['content-length'], get.headers['x-key']],
      ['GET', '', undefined, undefined, undefined, 'k'], `${status}: a GET without the body or its headers`)
  }
})

t.test('item 16: a 303 after a GET stays a GET; a 307 or 308 after a POST stays a POST', async (t) => {
  for (const [method, status] of [['GET', 303], ['POST', 307], ['POST', 308]] as const) {
    const server = await httpServer(t, (req, res, _index) => {
      if (req.url === '/events') res.writeHead(status, { location: '/result' }).end()
      else res.writeHead(204).end()
    })
    await collect(connect(server.url, { method, body: method === 'POST' ? 'q' : undefined }))
    t.strictSame(server.requests.map((r) => [r.url, r.method, r.body]), [['/events', method, method === 'POST' ? 'q' : ''], ['/result', method, method === 'POST' ? 'q' : '']], `${method} ${status}`)
  }
})

t.test('item 16: a Location that is not http(s) ends with SSE_ERR_CLIENT_REDIRECT; a redirect status without one is a status', async (t) => {
  const server = await httpServer(t, (req, res) => {
    if (req.url === '/events') res.writeHead(302, { location: 'file:///etc/passwd' }).end()
    else res.writeHead(301).end()
  })
  await t.rejects(collect(connect(server.url)), { code: 'SSE_ERR_CLIENT_REDIRECT', status: 302, message: /file:\/\/\/etc\/passwd/ })
  await t.rejects(collect(connect(new URL('/nowhere', server.url))), { code: 'SSE_ERR_CLIENT_STATUS', status: 301 })
  t.equal(server.requests.length, 2, 'neither is retried')
})
