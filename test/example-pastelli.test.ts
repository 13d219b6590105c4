// example/pastelli.ts over real sockets (seed 002): the handshake chunk, the app's registry of
// connections, send and close from ordinary routes, the same handler over WebSocket on the same route.
import t, { type Test } from 'tap'
import { request } from 'undici'
import WebSocket from 'ws'
import { buildPastelliApp } from '../example/pastelli.js'
import { eventually, openStream } from './helpers/stream.js'

async function start (t: Test) {
  const app = await buildPastelliApp({ heartbeat: false })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const post = async (name: string, body: unknown, what = 'events'): Promise<number> => {
    const response = await request(`${url}/connections/${name}/${what}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    await response.body.dump()
    return response.statusCode
  }
  const remove = async (name: string): Promise<number> => {
    const response = await request(`${url}/connections/${name}`, { method: 'DELETE' })
    await response.body.dump()
    return response.statusCode
  }
  const registry = async () => (await request(`${url}/connections`)).body.json() as Promise<{ open: Array<{ name: string, transport: string }>, left: Array<{ name: string, reason: string }> }>
  return { app, url, post, remove, registry }
}

interface Client { ws: WebSocket, messages: Array<string | Buffer>, closed: Promise<number> }

function connectWs (url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'))
    const messages: Array<string | Buffer> = []
    ws.on('message', (data: Buffer, isBinary) => messages.push(isBinary ? data : data.toString()))
    const closed = new Promise<number>((resolveClosed) => ws.on('close', resolveClosed))
    ws.once('open', () => resolve({ ws, messages, closed }))
    ws.once('error', reject)
  })
}

t.test('the handshake chunk, the registry, send and close from ordinary routes (SSE)', async (t) => {
  const { url, post, remove, registry } = await start(t)
  const stream = await openStream(`${url}/connections/slides`)
  await stream.waitFor(1)
  t.same(stream.events[0], { event: 'handshake', id: '1234', data: JSON.stringify({ text: 'hallo!' }) }, 'init_chunk with event and id')
  t.same(stream.retries, [6000], 'and retry')
  t.same((await registry()).open, [{ name: 'slides', transport: 'sse' }], 'the app registered the connection')

  t.equal(await post('slides', { data: { slide: 2 }, event: 'goto', id: 'x4x3' }), 202)
  t.equal(await post('slides', { data: 'plain text' }), 202)
  await stream.waitFor(3)
  t.same(stream.events.slice(1), [
    { event: 'goto', id: 'x4x3', data: JSON.stringify({ slide: 2 }) },
    { event: undefined, id: undefined, data: 'plain text' }
  ], 'event/3 from a route: non-string data serialized')
  t.equal(await post('slides', { data: 1, event: 'x\ndata: forged' }), 400, 'a forged field is refused')
  t.equal(await post('nobody', { data: 1 }), 404)

  t.equal(await remove('slides'), 204, 'close_chunk')
  await stream.ended // terminate ran before the end
  t.same(stream.events.slice(3).map((e) => [e.event, e.data]), [['closed', 'closed by the server']])
  t.same(await registry(), { open: [], left: [{ name: 'slides', reason: 'stopped' }] })
  t.equal(await remove('slides'), 404, 'gone')
})

t.test('the client going away is told to the registry (Pastelli\'s chunk_complete)', async (t) => {
  const { app, url, registry } = await start(t)
  const stream = await openStream(`${url}/connections/a`)
  await stream.waitFor(1)
  stream.close()
  await eventually(() => app.sse.connections === 0)
  t.same(await registry(), { open: [], left: [{ name: 'a', reason: 'client-closed' }] })
})

t.test('a newer connection with the same name keeps its entry when the older one ends', async (t) => {
  const { app, url, post, registry } = await start(t)
  const older = await openStream(`${url}/connections/same`)
  const newer = await openStream(`${url}/connections/same`)
  await eventually(() => app.sse.connections === 2)
  older.close()
  await eventually(() => app.sse.connections === 1)
  t.same((await registry()).open, [{ name: 'same', transport: 'sse' }])
  t.equal(await post('same', { data: 'to the newer' }), 202)
  await newer.waitFor(2)
  t.equal(newer.events[1].data, 'to the newer')
  newer.close()
})

t.test('the same handler over WebSocket on the same route: handshake, messages in and out, send, notify, close', async (t) => {
  const { app, url, post, remove, registry } = await start(t)
  const sse = await openStream(`${url}/connections/viewer`)
  const client = await connectWs(`${url}/connections/deck`)
  await eventually(() => client.messages.length === 1)
  t.same(JSON.parse(String(client.messages[0])), { data: { text: 'hallo!' }, event: 'handshake', id: '1234' }, 'the handshake as JSON; data stays JSON')
  t.same((await registry()).open.sort((a, b) => a.name.localeCompare(b.name)), [
    { name: 'deck', transport: 'websocket' },
    { name: 'viewer', transport: 'sse' }
  ], 'both transports in one registry')

  client.ws.send('next slide')
  client.ws.send(Buffer.from([1, 2, 3]))
  await eventually(() => client.messages.length === 3)
  t.same(JSON.parse(String(client.messages[1])), { data: 'next slide', event: 'echo' }, 'websocket_handle: text in, an Event out')
  t.same([...(client.messages[2] as Buffer)], [1, 2, 3], 'bytes in, bytes out')

  t.equal(await post('deck', { data: { slide: 3 }, event: 'goto' }), 202)
  await eventually(() => client.messages.length === 4)
  t.same(JSON.parse(String(client.messages[3])), { data: { slide: 3 }, event: 'goto' }, 'app.sse.send over WebSocket')

  t.equal(await remove('deck'), 204)
  t.equal(await client.closed, 1000, 'close_chunk: a normal close')
  t.same(JSON.parse(String(client.messages[4])), { data: 'closed by the server', event: 'closed' }, 'the final message first')
  await eventually(() => app.sse.connections === 1)
  t.same((await registry()).left, [{ name: 'deck', reason: 'stopped' }])
  t.same(sse.events.map((e) => e.event), ['handshake'], 'the SSE connection saw none of it')
  sse.close()
})

t.test('websocket_info: a message to the connection reaches handle, on both transports', async (t) => {
  const { app, url, post } = await start(t)
  const sse = await openStream(`${url}/connections/one`)
  const client = await connectWs(`${url}/connections/two`)
  await eventually(() => app.sse.connections === 2 && client.messages.length === 1)
  t.equal(await post('one', { slide: 1 }, 'info'), 202)
  t.equal(await post('two', { slide: 2 }, 'info'), 202)
  t.equal(await post('three', { slide: 3 }, 'info'), 404)
  await sse.waitFor(2)
  await eventually(() => client.messages.length === 2)
  t.same(sse.events[1], { event: 'info', id: undefined, data: JSON.stringify({ name: 'one', msg: { slide: 1 } }) })
  t.same(JSON.parse(String(client.messages[1])), { data: { name: 'two', msg: { slide: 2 } }, event: 'info' })
  sse.close()
  client.ws.close()
  await eventually(() => app.sse.connections === 0)
})
