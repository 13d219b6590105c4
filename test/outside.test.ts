import http from 'node:http'
import t, { type Test } from 'tap'
import { type Broker, Event, memoryBroker, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { redisAvailable, redisCluster } from './helpers/redis.js'
import { eventually, openStream } from './helpers/stream.js'

// What reaches a stream from outside its handler (seeds 001 and 002): app.sse.send, close, notify
// to handleNotify; a topic closed and opened again; the status and headers a route chooses (seed 000).

t.test('app.sse.send writes chunks through the mailbox, in order with handle; app.sse.close ends the stream after them', async (t) => {
  let id = ''
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/pastelli', {
      chunk: true,
      handler: {
        init (token) {
          id = token.id
          return new Event({ event: 'handshake', data: 'hello', retry: 2000, id: '0' })
        },
        async handle (msg: string) {
          await new Promise((resolve) => setImmediate(resolve))
          return new Event({ data: `handled ${msg}` })
        }
      }
    })
    app.get('/relay', { chunk: true, handler: { init (token) { id = token.id } } })
  })
  const stream = await openStream(`${url}/pastelli`)
  await stream.waitFor(1)
  t.ok(app.sse.notify(id, 'a'), 'notify reaches handle')
  t.ok(app.sse.send(id, [new Event({ data: 'sent 1' }), 'data: sent 2\n\n']))
  t.ok(app.sse.notify(id, 'b'))
  t.ok(app.sse.close(id, new Event({ event: 'bye', data: 'closed from outside' })))
  t.notOk(app.sse.send(id, 'data: late\n\n'), 'once closed, nothing more is taken')
  await stream.ended
  t.same(stream.events.map((e) => e.data), ['hello', 'handled a', 'sent 1', 'sent 2', 'handled b', 'closed from outside'])
  t.equal(stream.retries[0], 2000, 'the handshake carried its retry')
  t.throws(() => app.sse.send(id, { not: 'a chunk' } as never), { code: 'SSE_ERR_INVALID_CHUNK' }, 'a bad chunk is the caller\'s error')
  t.notOk(app.sse.send('nobody', 'x'), 'an unknown id: false')

  const relay = await openStream(`${url}/relay`)
  await eventually(() => app.sse.connections === 1)
  t.notOk(app.sse.notify(id, 'x'), 'notify to a stream without handle or handleNotify: false')
  t.ok(app.sse.send(id, 'data: pushed\n\n'), 'send needs no handle')
  await relay.waitFor(1)
  t.equal(relay.events[0].data, 'pushed')
  relay.close()
})

t.test('handleNotify gets what notify sends; handle gets the rest', async (t) => {
  let id = ''
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/lasse', {
      chunk: true,
      handler: {
        init (token) { id = token.id; token.send('info') },
        handle: (msg: string) => new Event({ event: 'info', data: msg }),
        handleNotify: (msg: string) => new Event({ event: 'notify', data: msg })
      }
    })
  })
  const stream = await openStream(`${url}/lasse`)
  await stream.waitFor(1)
  t.ok(app.sse.notify(id, 'from outside'))
  await stream.waitFor(2)
  t.same(stream.events.map((e) => [e.event, e.data]), [['info', 'info'], ['notify', 'from outside']])
  stream.close()
})

t.test('a route sets the status and the Content-Type of raw and ndjson streams; SSE keeps text/event-stream', async (t) => {
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/created', {
      chunk: { format: 'raw' },
      handler: { init (token) { token.reply.code(201).header('content-type', 'text/plain; charset=utf-8'); return 'made\n' } }
    })
    app.get('/sse', { chunk: true, handler: { init (token) { token.reply.code(202).header('content-type', 'text/plain') } } })
  })
  const raw = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/created`, { agent: false }, resolve))
  t.equal(raw.statusCode, 201)
  t.equal(raw.headers['content-type'], 'text/plain; charset=utf-8')
  raw.destroy()
  const sse = await openStream(`${url}/sse`)
  t.equal(sse.status, 202)
  t.match(sse.headers['content-type'], /^text\/event-stream/)
  sse.close()
})

async function reopenCase (t: Test, broker: Broker): Promise<void> {
  const { app, url } = await startApp(t, { broker, heartbeat: false }, (app) => {
    app.get('/t', { chunk: true, handler: topics(() => ['again']) })
  })
  const first = await openStream(`${url}/t`)
  await eventually(() => /^id: /m.test(first.text()))
  await app.sse.publish('again', { n: 1 })
  await app.sse.closeTopic('again')
  await first.ended
  const lastId = first.events[0].id!
  t.equal((await openStream(`${url}/t`)).status, 204, 'closed')
  await t.rejects(app.sse.publish('again', { n: 2 }), { code: 'SSE_ERR_TOPIC_CLOSED' })
  await app.sse.reopenTopic('again')
  const back = await openStream(`${url}/t`, { headers: { 'last-event-id': lastId } })
  t.equal(back.status, 200, 'open again')
  await eventually(() => app.sse.connections === 1)
  await app.sse.publish('again', { n: 3 })
  await back.waitFor(2)
  t.same(back.events.map((e) => e.event ?? JSON.parse(e.data).n), ['reset', 3], 'a new epoch: the old cursor gets a reset, then the new events')
  back.close()
}

t.test('reopenTopic: a closed topic can be used again, in a new epoch (memory)', (t) => reopenCase(t, memoryBroker()))

t.test('reopenTopic on Redis', async (t) => {
  if (await redisAvailable(t)) await reopenCase(t, redisCluster(t)())
})

t.test('serialize: the plugin turns published data into text with it; a serializer that returns no string is refused', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: false, serialize: (data) => `<${JSON.stringify(data)}>` }, (app) => {
    app.get('/t', { chunk: true, handler: topics(() => ['s']) })
  })
  const stream = await openStream(`${url}/t`)
  await eventually(() => app.sse.connections === 1)
  await app.sse.publish('s', { n: 1 })
  await app.sse.publish('s', 'as it is')
  await stream.waitFor(2)
  t.same(stream.events.map((e) => e.data), ['<{"n":1}>', 'as it is'])
  stream.close()
  const bad = await startApp(t, { serialize: (() => 42) as never })
  await t.rejects(bad.app.sse.publish('s', { n: 1 }), { code: 'SSE_ERR_INVALID_FIELD' })
  await t.rejects(startApp(t, { serialize: 'yaml' as never }), { code: 'SSE_ERR_INVALID_OPTION' })
})

t.test('handleError when a write fails for another reason than the client leaving (seed 001), not when it left', async (t) => {
  const seen: string[] = []
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/w', {
      chunk: true,
      handler: {
        init (token) { token.send('go') },
        handle (msg: string, token) {
          const code = (token.request.query as { code: string }).code
          // Stands in for the socket failing a write (a broken pipe, a device error).
          setImmediate(() => token.reply.raw.socket?.destroy(Object.assign(new Error(`write failed: ${code}`), { code })))
          return `data: ${msg}\n\n`
        },
        handleError (error) { seen.push(error.message) },
        terminate (reason) { seen.push(reason) }
      }
    })
  })
  const failed = await openStream(`${url}/w?code=EIO`)
  await failed.ended
  t.same(seen, ['write failed: EIO', 'error'])
  seen.length = 0
  const reset = await openStream(`${url}/w?code=ECONNRESET`)
  await reset.ended
  await eventually(() => app.sse.connections === 0)
  t.same(seen, ['client-closed'], 'a client that left is no handler failure')
})
