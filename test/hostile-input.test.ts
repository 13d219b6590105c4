import http from 'node:http'
import net from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { chunked, Event, ssePlugin, stop, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { openStream } from './helpers/stream.js'

// Issue 9, "Deliver": a hostile-input table over every public entry point. Each row names its input
// and what it must give: a coded error, or (for resume headers) a 200 stream that starts with
// `event: reset`, at the head or with the replay, or a 4xx from Node's HTTP parser: never a 500 or a crash.

interface Row { input: string, run: () => unknown, code: string }

const CONTROLS = [...Array.from({ length: 32 }, (_, code) => code), 0x7f]
const hex = (code: number): string => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
const cyclic: Record<string, unknown> = {}
cyclic.self = cyclic
class Typo { hanlde (): void {} }
const plain = { init () {} }

/** A request that must fail with `code`: a 500 carrying the coded error, never a stream that opens. */
async function failsWith (t: Test, url: string, code: string, input: string): Promise<void> {
  const response = await request(url)
  if (response.statusCode !== 500) response.body.destroy()
  const body = response.statusCode === 500 ? await response.body.json() : undefined
  t.match({ status: response.statusCode, body }, { status: 500, body: { code } }, input)
}

/** An async entry point must reject with the code: a promise, never a synchronous throw. */
async function rejects (t: Test, row: Row): Promise<void> {
  let result: unknown
  try { result = row.run() } catch (error) { t.fail(`${row.input}: threw synchronously (${String(error)})`); return }
  await t.rejects(result as Promise<unknown>, { code: row.code }, row.input)
}

t.test('hostile input (items 1, 10, 18): publish and closeTopic reject every bad input with its code, and store nothing', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/t', { chunk: true, handler: topics(() => ['t']) })
  })
  const stream = await openStream(`${url}/t`)
  const publish = (topic: unknown, data: unknown, options?: unknown) => (): unknown => app.sse.publish(topic as string, data, options as never)
  const rows: Row[] = [
    ...[42, null, undefined, {}, ['t'], Symbol('t')].map((topic) => ({ input: `topic ${String(topic)}`, run: publish(topic, 'x'), code: 'SSE_ERR_INVALID_TOPIC' })),
    { input: 'empty topic', run: publish('', 'x'), code: 'SSE_ERR_INVALID_TOPIC' },
    { input: 'topic with a lone surrogate', run: publish('a\uD800', 'x'), code: 'SSE_ERR_INVALID_TOPIC' },
    ...CONTROLS.map((code) => ({ input: `event name with ${hex(code)}`, run: publish('t', 'x', { event: `a${String.fromCharCode(code)}b` }), code: 'SSE_ERR_INVALID_FIELD' })),
    { input: 'event name forging a second event, with an Event', run: publish('t', new Event({ data: 'x' }), { event: 'a\n\ndata: x' }), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'event name 42', run: publish('t', 'x', { event: 42 }), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'event named twice, differently', run: publish('t', new Event({ data: 'x', event: 'a' }), { event: 'b' }), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'an Event with an id', run: publish('t', new Event({ data: 'x', id: '1' })), code: 'SSE_ERR_ID_RESERVED' },
    { input: 'an Event with a retry', run: publish('t', new Event({ data: 'x', retry: 5 })), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'a comment', run: publish('t', Event.comment('x')), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'an Event with data and a comment', run: publish('t', new Event({ data: 'x', comment: 'c' })), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'undefined data', run: publish('t', undefined), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'a BigInt', run: publish('t', 10n), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'a circular object', run: publish('t', cyclic), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'a function', run: publish('t', () => {}), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'a symbol', run: publish('t', Symbol('s')), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'options { evnet }', run: publish('t', 'x', { evnet: 'a' }), code: 'SSE_ERR_INVALID_OPTION' },
    { input: 'options a string', run: publish('t', 'x', 'a'), code: 'SSE_ERR_INVALID_OPTION' },
    { input: 'closeTopic: empty topic', run: () => app.sse.closeTopic('', 'bye'), code: 'SSE_ERR_INVALID_TOPIC' },
    { input: 'closeTopic: final a BigInt', run: () => app.sse.closeTopic('t', 10n), code: 'SSE_ERR_INVALID_FIELD' },
    { input: 'closeTopic: final an Event with an id', run: () => app.sse.closeTopic('t', new Event({ data: 'x', id: '1' })), code: 'SSE_ERR_ID_RESERVED' }
  ]
  for (const row of rows) await rejects(t, row)
  t.match(await app.sse.publish('t', 'ok'), /\.1$/, 'nothing was stored: the first good event is offset 1')
  t.same((await stream.waitFor(1)).map((e) => [e.event, e.data]), [[undefined, 'ok']], 'the subscriber got the good event only, the topic is open')
  stream.close()
})

t.test('hostile input (items 10, 18): new Event refuses every bad field with SSE_ERR_INVALID_FIELD', async (t) => {
  const build = (init: unknown) => (): unknown => new Event(init as never)
  const rows: Row[] = [
    ...(['event', 'id'] as const).flatMap((field) => CONTROLS.map((code) => ({ input: `${field} with ${hex(code)}`, run: build({ data: 'x', [field]: `a${String.fromCharCode(code)}b` }), code: 'SSE_ERR_INVALID_FIELD' }))),
    ...(['event', 'id', 'comment'] as const).flatMap((field) => [42, null, {}, true].map((value) => ({ input: `${field} ${JSON.stringify(value)}`, run: build({ data: 'x', [field]: value }), code: 'SSE_ERR_INVALID_FIELD' }))),
    ...[Number.NaN, -1, 1.5, Infinity, 2 ** 53, '5', null].map((retry) => ({ input: `retry ${String(retry)}`, run: build({ data: 'x', retry }), code: 'SSE_ERR_INVALID_FIELD' })),
    ...[undefined, 10n, cyclic, () => {}, Symbol('s'), { toJSON () { throw new Error('no') } }].map((data) => ({ input: `data ${typeof data}`, run: build({ data }), code: 'SSE_ERR_INVALID_FIELD' })),
    { input: 'unknown key evnet', run: build({ data: 'x', evnet: 'a' }), code: 'SSE_ERR_INVALID_FIELD' },
    ...[null, undefined, 'data', 42].map((init) => ({ input: `init ${String(init)}`, run: build(init), code: 'SSE_ERR_INVALID_FIELD' }))
  ]
  for (const row of rows) t.throws(row.run as () => void, { code: row.code }, row.input)
})

/** Sends a GET with raw header bytes (HTTP clients refuse NUL or CR) and reads the status and the first event. */
function rawGet (port: number, path: string, header?: Buffer): Promise<{ status: number, first: string }> {
  const head = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n`, 'latin1')
  const lastEventId = header === undefined ? [] : [Buffer.from('Last-Event-ID: '), header, Buffer.from('\r\n')]
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    const settle = (ended: boolean): void => {
      const end = received.indexOf('\r\n\r\n')
      if (end === -1 && !ended) return
      const status = Number(received.slice(9, 12))
      const body = dechunk(received.slice(end + 4))
      const first = body.indexOf('\n\n')
      if (status === 200 && first === -1 && !ended) return
      socket.destroy()
      resolve({ status, first: body.slice(0, first) })
    }
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); settle(false) })
    socket.on('close', () => settle(true))
    socket.on('error', reject)
    socket.write(Buffer.concat([head, ...lastEventId, Buffer.from('\r\n')]))
  })
}

/** The body of a chunked response, as far as it arrived. */
function dechunk (body: string): string {
  let out = ''
  for (let at = 0; ;) {
    const eol = body.indexOf('\r\n', at)
    const size = eol === -1 ? 0 : parseInt(body.slice(at, eol), 16)
    if (!(size > 0)) return out
    out += body.slice(eol + 2, eol + 2 + size)
    at = eol + 2 + size + 2
  }
}

/** How a stream starts: with a reset, at the head (an id-only block), or with the replay of `data`. */
function startOf (first: string): string {
  if (first.startsWith('event: reset\n')) return 'reset'
  if (first.split('\n').every((line) => line.startsWith('id: '))) return 'head'
  return `replay ${first.split('\n')[0]}`
}

t.test('hostile input (items 10, 14): Last-Event-ID and lastEventId give a reset, the head or the replay, never a 500', async (t) => {
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/t', { chunk: true, handler: topics(() => ['t']) })
  }, { serverFactory: (handler) => http.createServer({ maxHeaderSize: 512 * 1024 }, handler) })
  const port = Number(new URL(url).port)
  const position = await app.sse.publish('t', 'one')
  const epoch = position.slice(2, position.lastIndexOf('.'))
  const header = (text: string): Buffer => Buffer.from(text, 'latin1')
  const rows: Array<{ input: string, path?: string, header?: Buffer, expect: string }> = [
    { input: 'no header', expect: 'head' },
    { input: 'an empty header', header: header(''), expect: 'head' },
    { input: 'a cursor at offset 0 of the epoch', header: header(`t=${epoch}.0`), expect: 'replay data: one' },
    { input: 'a cursor past the head', header: header(`t=${epoch}.99`), expect: 'reset' },
    { input: 'a cursor of another epoch', header: header('t=AAAAAAAAAAAA1.0'), expect: 'reset' },
    { input: 'a cursor for another topic only', header: header(`u=${epoch}.0`), expect: 'head' },
    { input: '64 KB of x', header: header('x'.repeat(64 * 1024)), expect: 'reset' },
    { input: '600 KB of x (past maxHeaderSize)', header: header('x'.repeat(600 * 1024)), expect: 'status 431' },
    ...['&', '='].flatMap((char) => [4000, 5000].map((length) => ({ input: `${length} '${char}'`, header: header(char.repeat(length)), expect: 'reset' }))),
    { input: 'a cursor with 10 000 entries', header: header(Array.from({ length: 10_000 }, (_, i) => `t${i}=${epoch}.1`).join('&')), expect: 'reset' },
    { input: 'a malformed percent-encoding', header: header(`%E0%A4%A=${epoch}.0`), expect: 'reset' },
    { input: 'a lone %', header: header(`%=${epoch}.0`), expect: 'reset' },
    { input: 'obs-text bytes 0x80-0xFF', header: Buffer.from([0x74, 0x3d, 0xc3, 0xbc, 0xff]), expect: 'reset' },
    { input: 'two Last-Event-ID headers', header: header(`t=${epoch}.0\r\nLast-Event-ID: t=${epoch}.0`), expect: 'reset' },
    ...CONTROLS.map((code) => ({ input: `a header with ${hex(code)}`, header: Buffer.from([0x61, code, 0x62]), expect: code === 9 ? 'reset' : 'status 400' })),
    { input: 'query: a lone %', path: '/t?lastEventId=%', expect: 'reset' },
    { input: 'query: a malformed percent-encoding', path: '/t?lastEventId=%E0%A4%A', expect: 'reset' },
    { input: 'query: a cursor at offset 0', path: `/t?lastEventId=${encodeURIComponent(`t=${epoch}.0`)}`, expect: 'replay data: one' }
  ]
  for (const row of rows) {
    const { status, first } = await rawGet(port, row.path ?? '/t', row.header)
    t.equal(status === 200 ? startOf(first) : `status ${status}`, row.expect, row.input)
  }
  t.equal(startOf((await rawGet(port, '/t')).first), 'head', 'the app still serves')
})

t.test('hostile input (item 18): plugin, route, chunked() and reply.chunk() options refuse bad values with SSE_ERR_INVALID_OPTION', async (t) => {
  const pluginRows = [{ hearbeat: 1000 }, { mailbox: { limt: 1 } }, { mailbox: 5 }, { format: 'raw' }, { heartbeat: -1 }, { heartbeat: 'fast' },
    { retry: 1.5 }, { maxTopicsPerStream: 0 }, { maxConnections: 0 }, { shutdownTimeout: Number.NaN }, { highWaterMark: -1 }, { drainTimeout: Infinity }]
  for (const options of pluginRows) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(ssePlugin, options as never) }, { code: 'SSE_ERR_INVALID_OPTION' }, `plugin ${JSON.stringify(options)}`)
  }
  const routeRows = [{ evnet: 1 }, { format: 'xml' }, { format: 'toString' }, { format: 'raw', heartbeat: 5000 }, { format: 'ndjson', heartbeat: 1 },
    { mailbox: { overflow: 'explode' } }, { mailbox: { limt: 1 } }, { maxTopicsPerStream: 1.5 }, { retry: -1 }, null, 'yes']
  const replyRows = [{ stat: 1 }, { mailbox: { size: 1 } }, { format: 'raw', heartbeat: 10 }, { heartbeat: 0 }, null]
  const { url } = await startApp(t, {}, (app: FastifyInstance) => {
    for (const options of routeRows) {
      t.throws(() => chunked(plain, options as never), { code: 'SSE_ERR_INVALID_OPTION' }, `chunked() ${JSON.stringify(options)}`)
      t.throws(() => app.get('/never', { chunk: options as never, handler: plain }), { code: 'SSE_ERR_INVALID_OPTION' }, `route chunk ${JSON.stringify(options)}`)
    }
    app.get<{ Querystring: { row: string } }>('/reply', (request, reply) => reply.chunk(plain, replyRows[Number(request.query.row)] as never))
  })
  for (const [row, options] of replyRows.entries()) {
    await failsWith(t, `${url}/reply?row=${row}`, 'SSE_ERR_INVALID_OPTION', `reply.chunk ${JSON.stringify(options)}`)
  }
})

t.test('hostile input (item 17): chunked(), routes and reply.chunk() refuse bad handler shapes with SSE_ERR_INVALID_HANDLER', async (t) => {
  const shapes: Array<[string, unknown]> = [['{}', {}], ['{ hanlde() {} }', { hanlde () {} }], ['{ init: 5 }', { init: 5 }],
    ['a class instance with a typo', new Typo()], ['a class, not an instance', Typo], ['an empty null-prototype object', Object.create(null)],
    ['null', null], ['a string', 'handler'], ['a number', 42], ['{ handle: "no" }', { handle: 'no' }]]
  const { url } = await startApp(t, {}, (app: FastifyInstance) => {
    for (const [input, handler] of shapes) {
      t.throws(() => chunked(handler as never), { code: 'SSE_ERR_INVALID_HANDLER' }, `chunked(${input})`)
      if (typeof handler === 'object' && handler !== null) {
        t.throws(() => app.get('/never', { chunk: true, handler: handler as never }), { code: 'SSE_ERR_INVALID_HANDLER' }, `route ${input}`)
      }
    }
    app.get<{ Querystring: { row: string } }>('/reply', (request, reply) => reply.chunk(shapes[Number(request.query.row)][1] as never))
    app.get('/ok', { chunk: true, handler: { init: () => stop(new Event({ data: 'fine' })) } })
  })
  for (const [row, [input]] of shapes.entries()) {
    await failsWith(t, `${url}/reply?row=${row}`, 'SSE_ERR_INVALID_HANDLER', `reply.chunk(${input})`)
  }
  const ok = await openStream(`${url}/ok`)
  await ok.ended
  t.same(ok.events.map((e) => e.data), ['fine'], 'a valid handler still serves')
})
