import type { FastifyInstance } from 'fastify'
import t from 'tap'
import WebSocket from 'ws'
import { type ChunkedHandler, type CloseReason, Event, isClientMessage, isPublished, noContent, type Published, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

// The same handler over WebSocket (seeds/002, Pastelli's upgrade): one actor per socket.

interface Client {
  ws: WebSocket
  messages: Array<string | Buffer>
  closed: Promise<{ code: number, reason: string }>
}

function connectWs (url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers })
    const messages: Array<string | Buffer> = []
    ws.on('message', (data: Buffer, isBinary) => messages.push(isBinary ? data : data.toString()))
    const closed = new Promise<{ code: number, reason: string }>((resolveClosed) => ws.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() })))
    ws.once('open', () => resolve({ ws, messages, closed }))
    ws.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`status ${response.statusCode}`), { status: response.statusCode })))
    ws.once('error', reject)
  })
}

const json = (client: Client) => client.messages.map((m) => JSON.parse(String(m)))

t.test('one route, two transports: an EventSource and a ws client get the same topic events; ids are the same cursor', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/news', { chunk: { websocket: true }, handler: topics(() => ['news']) })
  })
  const sse = await openStream(`${url}/news`)
  const ws = await connectWs(`${url}/news`)
  await eventually(() => app.sse.connections === 2)
  await app.sse.publish('news', { n: 1 }, { event: 'item' })
  await sse.waitFor(1)
  await eventually(() => ws.messages.length === 1)
  const [message] = json(ws)
  t.same(message.data, JSON.stringify({ n: 1 }), 'a published event carries its data as text')
  t.equal(message.event, 'item')
  t.equal(message.id, sse.events[0].id, 'the same cursor as on SSE')
  sse.close()
  ws.ws.close()
  await eventually(() => app.sse.connections === 0)
})

t.test('client messages reach the mailbox in order; strings go out as text, bytes as binary, Events as JSON', async (t) => {
  const reasons: CloseReason[] = []
  const echo: ChunkedHandler = {
    init: () => new Event({ event: 'hello', data: { ready: true } }),
    handle (msg) {
      if (!isClientMessage(msg)) return undefined
      return typeof msg.data === 'string' ? `echo ${msg.data}` : Buffer.concat([Buffer.from([0]), msg.data])
    },
    terminate (reason) { reasons.push(reason) }
  }
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/echo', { chunk: { websocket: true }, handler: echo })
  })
  const client = await connectWs(`${url}/echo`)
  for (const text of ['a', 'b', 'c']) client.ws.send(text)
  client.ws.send(Buffer.from([1, 2]))
  await eventually(() => client.messages.length === 5)
  t.same(JSON.parse(String(client.messages[0])), { data: { ready: true }, event: 'hello' }, 'JSON data stays JSON')
  t.same(client.messages.slice(1, 4), ['echo a', 'echo b', 'echo c'])
  t.same([...(client.messages[4] as Buffer)], [0, 1, 2], 'binary')
  client.ws.close()
  await eventually(() => reasons.length === 1)
  t.same(reasons, ['client-closed'])
  t.equal(app.sse.connections, 0)
})

t.test('Fastify hooks run before the upgrade: one refuses it with its status; init refuses with noContent', async (t) => {
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'yes') return reply.code(401).send({ error: 'who?' })
    })
    app.get('/private', { chunk: { websocket: true }, handler: { init () {}, handle () {} } })
    app.get('/gone', { chunk: { websocket: true }, handler: { init: () => noContent() } })
    app.get('/sse-only', { chunk: true, handler: { init () {}, handle () {} } })
  })
  await t.rejects(connectWs(`${url}/private`), { message: 'status 401' })
  const allowed = await connectWs(`${url}/private`, { authorization: 'yes' })
  allowed.ws.close()
  await t.rejects(connectWs(`${url}/gone`, { authorization: 'yes' }), { message: 'status 204' })
  await t.rejects(connectWs(`${url}/sse-only`, { authorization: 'yes' }), { message: 'status 400' }, 'a route without websocket: true refuses the upgrade')
})

t.test('resume over WebSocket with the lastEventId query parameter', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/feed', { chunk: { websocket: true }, handler: topics(() => ['feed']) })
  })
  const first = await connectWs(`${url}/feed`)
  await eventually(() => app.sse.connections === 1)
  await app.sse.publish('feed', 'one')
  await eventually(() => first.messages.length === 1)
  const cursor = json(first)[0].id
  first.ws.close()
  await eventually(() => app.sse.connections === 0)
  await app.sse.publish('feed', 'two')
  await app.sse.publish('feed', 'three')
  const back = await connectWs(`${url}/feed?lastEventId=${encodeURIComponent(cursor)}`)
  await eventually(() => back.messages.length === 2)
  t.same(json(back).map((m) => m.data), ['two', 'three'], 'exactly what it missed')
  back.ws.close()
})

t.test('heartbeats are pings; shutdown closes with 1001 after terminate', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: 30 }, (app) => {
    app.get('/quiet', { chunk: { websocket: true }, handler: { init () {}, handle () {}, terminate: () => 'bye' } })
  })
  const client = await connectWs(`${url}/quiet`)
  let pings = 0
  client.ws.on('ping', () => { pings++ })
  await eventually(() => pings >= 2)
  await app.close()
  const { code } = await client.closed
  t.equal(code, 1001, 'going away')
  t.same(client.messages, ['bye'], 'what terminate returned went out first')
})

t.test('backpressure: a client that does not read is cut after drainTimeout, and counted', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: false, drainTimeout: 300, highWaterMark: 1 << 16 }, (app) => {
    app.get('/big', { chunk: { websocket: true }, handler: { async init (token) { await token.subscribe('big') }, handle: (msg) => isPublished(msg) ? (msg as Published).event : undefined } })
  })
  const client = await connectWs(`${url}/big`)
  ;(client.ws as unknown as { _socket: { pause (): void } })._socket.pause()
  await eventually(() => app.sse.connections === 1)
  const pad = 'x'.repeat(1 << 20)
  for (let i = 0; i < 40 && app.sse.connections === 1; i++) await app.sse.publish('big', pad)
  await eventually(() => app.sse.connections === 0, 300)
  t.equal(app.sse.stats().overflowDisconnects, 1)
  client.ws.terminate()
})

t.test('beside @fastify/websocket: the app\'s own WebSocket routes and ours live together', async (t) => {
  // Loaded by a name the compiler does not follow: its type augmentation of Fastify's route methods
  // would change how this project's own route forms are typed (see docs/ARCHITECTURE.md, WebSocket).
  const name = '@fastify/websocket'
  const { default: websocket } = await import(name) as { default: Parameters<FastifyInstance['register']>[0] }
  const reasons: CloseReason[] = []
  const { url } = await startApp(t, { heartbeat: false }, async (app) => {
    await app.register(websocket)
    // The app's own route, in @fastify/websocket's form (its types are not loaded here).
    app.route({ method: 'GET', url: '/own', websocket: true, handler: ((socket: WebSocket) => { socket.on('message', (data) => socket.send(`own ${String(data)}`)) }) as never } as never)
    app.get('/ours', {
      chunk: { websocket: true },
      handler: {
        init: (token) => `hello ${token.request.url}`,
        handle: (msg) => isClientMessage(msg) ? `ours ${String(msg.data)}` : undefined,
        terminate (reason) { reasons.push(reason) }
      }
    })
    app.get('/refused', { chunk: { websocket: true }, handler: { init: () => noContent() } })
  })
  const own = await connectWs(`${url}/own`)
  own.ws.send('x')
  const ours = await connectWs(`${url}/ours`)
  ours.ws.send('y')
  await eventually(() => own.messages.length === 1 && ours.messages.length === 2)
  t.same(own.messages, ['own x'])
  t.same(ours.messages, ['hello /ours', 'ours y'])
  const refused = await connectWs(`${url}/refused`)
  t.equal((await refused.closed).code, 1000, 'init refused after the upgrade: a normal close')
  own.ws.close()
  ours.ws.close()
  await eventually(() => reasons.length === 1)
  t.same(reasons, ['client-closed'])
})

t.test('a full server sends a WebSocket away: a 503 before the upgrade, 1013 after one (@fastify/websocket); a refusal is 4000 + its status', async (t) => {
  const name = '@fastify/websocket'
  const { default: websocket } = await import(name) as { default: Parameters<FastifyInstance['register']>[0] }
  const ours = { chunk: { websocket: true }, handler: { init: () => 'in' } }
  const plain = await startApp(t, { heartbeat: false, maxConnections: 1 }, (app) => { app.get('/ws', ours) })
  const beside = await startApp(t, { heartbeat: false, maxConnections: 1 }, async (app) => {
    await app.register(websocket)
    app.get('/ws', ours)
    app.get('/forbidden', { chunk: { websocket: true }, handler: { init: () => { throw Object.assign(new Error('no'), { statusCode: 403 }) } } })
  })
  const first = await connectWs(`${plain.url}/ws`)
  await t.rejects(connectWs(`${plain.url}/ws`), { message: 'status 503' }, 'not upgraded yet: a status (with Retry-After)')
  const held = await connectWs(`${beside.url}/ws`)
  await eventually(() => beside.app.sse.connections === 1)
  const away = await connectWs(`${beside.url}/ws`)
  t.same(await away.closed, { code: 1013, reason: 'try again later' }, 'upgraded already: try again later')
  t.equal(beside.app.sse.connections, 1, 'the one sent away was never counted')
  held.ws.close()
  await eventually(() => beside.app.sse.connections === 0)
  const refused = await connectWs(`${beside.url}/forbidden`)
  t.equal((await refused.closed).code, 4403)
  first.ws.close()
})
