import http from 'node:http'
import { Writable } from 'node:stream'
import t from 'tap'
import { type ChunkedHandler, type CloseReason, isPublished, type Published, stop, type Token, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { countEvents, eventually, openStream } from './helpers/stream.js'
import { stuckClient } from './helpers/stuck-client.js'

/** A Fastify logger whose lines land in `lines`, parsed. */
function capturedLogger () {
  const lines: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    }
  })
  return { lines, logger: { level: 'info', stream } }
}

t.test('item 6: a stream that ended with bytes queued stays counted, and is cut at drainTimeout', async (t) => {
  const { app, url } = await startApp(t, { maxConnections: 1, drainTimeout: 300, heartbeat: false }, (app) => {
    app.get('/big', { chunk: { format: 'raw' }, handler: { init: () => stop('x'.repeat(8 << 20)) } })
  })
  const stuck = await stuckClient(url, '/big', 30)
  t.teardown(() => { stuck.kill() })
  await eventually(() => app.sse.stats().bytesWritten > 0)
  t.equal(app.sse.connections, 1, 'ended, its bytes still queued: still counted')
  const other = await openStream(`${url}/big`)
  t.equal(other.status, 503, 'maxConnections still holds (a raw stream is sent away with a 503)')
  await eventually(() => app.sse.connections === 0, 200)
  t.pass('cut after drainTimeout: the socket and its bytes are released')
})

t.test('item 8: a generator that subscribes is refused with a coded error, never consumes events unwritten', async (t) => {
  let refused: unknown
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/gen', {
      chunk: true,
      handler: async function * (token) {
        try {
          await token.subscribe('t')
        } catch (error) {
          refused = error
        }
        yield 'data: done\n\n'
      }
    })
  })
  const stream = await openStream(`${url}/gen`)
  await stream.ended
  t.match(refused, { code: 'SSE_ERR_INVALID_HANDLER' })
  t.match((refused as Error).message, /cannot subscribe/)
})

t.test('item 8: a generator awaiting token.signal ends quietly on a normal disconnect', async (t) => {
  const { lines, logger } = capturedLogger()
  const reasons: CloseReason[] = []
  let errors = 0
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/wait', {
      chunk: true,
      handler: async function * (token) {
        yield 'data: open\n\n'
        await new Promise((_resolve, reject) => token.signal.addEventListener('abort', () => reject(token.signal.reason)))
      }
    })
    app.get('/obj', { chunk: true, handler: { init () {}, handle () {}, terminate (reason) { reasons.push(reason) }, handleError () { errors++ } } })
  }, { logger })
  const stream = await openStream(`${url}/wait`)
  await stream.waitFor(1)
  stream.close()
  await eventually(() => app.sse.connections === 0)
  await new Promise((resolve) => setImmediate(resolve))
  t.same(lines.filter((line) => line.level >= 40).map((line) => line.msg), [], 'no warning or error logged')
  t.equal(errors, 0)
})

t.test('item 11: a client that leaves while an async init runs ends the stream at once; terminate comes after init', async (t) => {
  const order: string[] = []
  let finishInit!: () => void
  const { app, url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/slow', {
      chunk: true,
      handler: {
        async init (token) {
          token.signal.addEventListener('abort', () => order.push('aborted'))
          await new Promise<void>((resolve) => { finishInit = resolve })
          order.push('init done')
        },
        handle () {},
        terminate (reason) { order.push(`terminate ${reason}`) }
      }
    })
  })
  const request = http.get(`${url}/slow`, { agent: false, headers: { accept: 'text/event-stream' } })
  request.on('error', () => {})
  await eventually(() => finishInit !== undefined)
  request.destroy()
  await eventually(() => order.includes('aborted'))
  t.same(order, ['aborted'], 'the signal fired while init still ran')
  finishInit()
  await eventually(() => app.sse.connections === 0)
  t.same(order, ['aborted', 'init done', 'terminate client-closed'])
})

t.test('item 14: maxTopicsPerStream, and a cursor that always fits what the server accepts back', async (t) => {
  const names = (count: number, length: number) => Array.from({ length: count }, (_, i) => `${i}`.padStart(length, 'x'))
  let refusal: unknown
  const { app, url } = await startApp(t, { heartbeat: false, maxTopicsPerStream: 64 }, (app) => {
    app.get('/many', { chunk: true, handler: topics(() => names(64, 8)) })
    app.get('/too-many', { chunk: { maxTopicsPerStream: 3 }, handler: topics(() => names(4, 1)) })
    app.get('/too-long', {
      chunk: true,
      handler: {
        async init (token) {
          for (const name of names(60, 80)) {
            try { await token.subscribe(name) } catch (error) { refusal = error; break }
          }
        },
        handle () {}
      }
    })
  })
  const refused = await openStream(`${url}/too-many`)
  t.equal(refused.status, 500, 'init refused through Fastify')
  const first = await openStream(`${url}/many`)
  await eventually(() => /^id: /m.test(first.text()))
  await app.sse.publish(names(64, 8)[5], { n: 1 })
  await first.waitFor(1)
  const cursor = first.events[0].id!
  t.ok(cursor.length <= 4096, `the cursor of 64 topics fits (${cursor.length} characters)`)
  first.close()
  await app.sse.publish(names(64, 8)[5], { n: 2 })
  const again = await openStream(`${url}/many`, { headers: { 'last-event-id': cursor } })
  await again.waitFor(1)
  t.same(again.events.map((e) => e.event ?? 'message'), ['message'], 'resumed, no reset')
  again.close()
  const long = await openStream(`${url}/too-long`)
  t.match(refusal, { code: 'SSE_ERR_TOO_MANY_TOPICS' }, 'long names hit the 4 KB bound before the count')
  long.close()
})

t.test('item 15: a reset is never dropped by drop-oldest, and no id or heartbeat ends an event written in pieces', async (t) => {
  const { app, url } = await startApp(t, { heartbeat: 30, mailbox: { limit: 2, overflow: 'drop-oldest' } }, (app) => {
    app.get('/two', { chunk: true, handler: topics(() => ['a', 'b']) })
    app.get('/pieces', {
      chunk: true,
      handler: {
        async init (token: Token) { await token.subscribe('p') },
        handle: (msg: unknown) => isPublished(msg) ? `data: ${(msg as Published).event.data}\n` : undefined
      } satisfies ChunkedHandler
    })
    app.get('/idle', { chunk: true, handler: { init () {} } })
  })
  const first = await openStream(`${url}/two`)
  await eventually(() => /^id: /m.test(first.text()))
  const cursor = [...first.text().matchAll(/^id: (.*)$/gm)].at(-1)![1]
  first.close()
  for (let n = 1; n <= 5; n++) await app.sse.publish('a', { n })
  // b's part of the cursor names an epoch that is not b's: a reset for b, while a replays five events.
  const back = await openStream(`${url}/two`, { headers: { 'last-event-id': cursor.replace(/b=[^.]+/, 'b=gone') } })
  await back.waitFor(6)
  t.same(back.events.filter((e) => e.event === 'reset').map((e) => e.data), ['b'], 'b is reset (no order across topics)')
  t.same(back.events.filter((e) => e.event !== 'reset').map((e) => JSON.parse(e.data).n), [1, 2, 3, 4, 5], 'a replays whole')
  back.close()

  const pieces = await openStream(`${url}/pieces`)
  await eventually(() => /^id: /m.test(pieces.text()))
  await app.sse.publish('p', 'one')
  const idle = await countEvents(`${url}/idle`)
  await eventually(() => idle.count() >= 3) // heartbeats went out to a stream at a boundary meanwhile
  await app.sse.publish('p', 'two')
  await eventually(() => pieces.text().endsWith('data: two\n'))
  pieces.close()
  idle.close()
  const afterFirst = pieces.text().slice(pieces.text().indexOf('data: one'))
  t.equal(afterFirst, 'data: one\ndata: two\n', 'nothing was written between the pieces')
})

t.test('item 17: the token has exactly its documented members', async (t) => {
  let token: Record<string, unknown> | undefined
  const { url } = await startApp(t, { heartbeat: false }, (app) => {
    app.get('/t', { chunk: true, handler: { init (tk) { token = tk as never; return stop() } } })
  })
  await (await openStream(`${url}/t`)).ended
  const members = new Set<string>(Object.keys(token!))
  for (let proto = Object.getPrototypeOf(token); proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') members.add(name)
  }
  t.same([...members].sort(), ['after', 'close', 'every', 'id', 'lastEventId', 'log', 'reply', 'request', 'send', 'signal', 'state', 'subscribe', 'unsubscribe'])
  for (const internal of ['reset', 'kill', 'fire', 'init', 'open', 'endWith', 'shutdown', 'notify', 'enqueuePublished', 'topicClosed', 'beat']) {
    t.equal(token![internal], undefined, `no ${internal}`)
  }
})
