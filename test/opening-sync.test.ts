// A stream whose init returns at once opens in the route function's own call: it returns the reply
// (a thenable, no promise), the head written before the call returns. What must not change with it:
// Fastify never answers twice (a wrapper that returns the route's result included, with an async
// onSend hook still running), every init that throws, refuses or is async ends as before, a thenable
// init is awaited like a promise, and what fails after the reply was hijacked is logged with its cause.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import http from 'node:http'
import t, { type Test } from 'tap'
import { type ChunkedHandler, chunked, noContent, shutdown, ssePlugin, topics } from '../lib/index.js'
import { captureLogs } from './helpers/logs.js'
import { eventually, openStream } from './helpers/stream.js'

interface Call { returned: unknown, headersSentOnReturn: boolean }

type RouteFunction = (request: FastifyRequest, reply: FastifyReply) => unknown

/**
 * A route function of `chunked(handler)` called by a plain route (sync, or async as a tracing
 * wrapper is), which records what it returned and returns it.
 */
function recorded (handler: Parameters<typeof chunked>[0], calls: Call[], wrapper: 'sync' | 'async', ndjson: boolean) {
  const route = chunked(handler, ndjson ? { format: 'ndjson' } : undefined) as RouteFunction
  const call = (request: FastifyRequest, reply: FastifyReply): unknown => {
    const returned = route(request, reply)
    calls.push({ returned, headersSentOnReturn: reply.raw.headersSent })
    return returned
  }
  return wrapper === 'sync' ? call : async (request: FastifyRequest, reply: FastifyReply) => call(request, reply)
}

interface AppOptions { wrapper?: 'sync' | 'async', slowOnSend?: boolean, maxConnections?: number, ndjson?: boolean, hook?: (app: FastifyInstance) => void }

async function app (t: Test, routes: Record<string, ChunkedHandler<any, any, any>>, options: AppOptions = {}) {
  const { logs, logger } = captureLogs('warn')
  const calls: Record<string, Call[]> = {}
  const fastify = Fastify({ logger })
  await fastify.register(ssePlugin, { heartbeat: false, maxConnections: options.maxConnections })
  // An async onSend hook: a reply sent through Fastify is not sent yet when the route returns.
  if (options.slowOnSend === true) fastify.addHook('onSend', async (_request, _reply, payload) => { await new Promise((resolve) => setTimeout(resolve, 5)); return payload })
  options.hook?.(fastify)
  for (const [path, handler] of Object.entries(routes)) {
    calls[path] = []
    fastify.get(path, recorded(handler, calls[path], options.wrapper ?? 'sync', options.ndjson === true))
  }
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => fastify.close())
  return { fastify, url, logs, calls }
}

/** Status and body of a plain GET. */
function get (url: string, method = 'GET'): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => { body += chunk.toString() })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    request.on('error', reject)
    request.end()
  })
}

/** Log lines that say Fastify answered twice or could not. */
const answeredTwice = (logs: Array<Record<string, unknown>>): number => logs.filter((line) => /FST_ERR_REP_ALREADY_SENT|ERR_HTTP_HEADERS_SENT|already sent/.test(JSON.stringify(line))).length

t.test('sync init: the route function returns the reply, with the head already written; async init: a promise', async (t) => {
  const { url, calls, logs } = await app(t, {
    '/topics': topics(() => ['s']),
    '/object': { init: (token) => { token.send('hello') }, handle: (msg) => `data: ${String(msg)}\n\n` },
    '/none': { handle: () => undefined },
    '/async': topics(async () => ['s']),
    '/thenable': { init: () => ({ then: (resolve: (value: undefined) => void) => resolve(undefined) }) as never, handle: () => undefined }
  })
  // The first stream on a topic waits for the broker to listen to it; the next ones do not.
  const first = await openStream(url + '/topics')
  t.teardown(() => first.close())
  t.ok(calls['/topics'][0].returned instanceof Promise, 'the first stream on a topic: a promise')
  for (const path of ['/topics', '/object', '/none']) {
    const stream = await openStream(url + path)
    t.teardown(() => stream.close())
    t.equal(stream.status, 200, path)
    const call = calls[path].at(-1)!
    t.notOk(call.returned instanceof Promise, `${path}: no promise`)
    t.equal(typeof (call.returned as { then?: unknown }).then, 'function', `${path}: a thenable (the reply)`)
    t.ok(call.headersSentOnReturn, `${path}: the head went out within the call`)
  }
  const object = await openStream(url + '/object')
  t.teardown(() => object.close())
  await eventually(() => object.text().includes('data: hello'))
  for (const path of ['/async', '/thenable']) {
    const stream = await openStream(url + path)
    t.teardown(() => stream.close())
    t.equal(stream.status, 200, path)
    t.ok(calls[path][0].returned instanceof Promise, `${path}: a promise`)
    t.notOk(calls[path][0].headersSentOnReturn, `${path}: the head waits for init`)
  }
  t.equal(answeredTwice(logs), 0, 'Fastify never saw a second answer')
})

t.test('refusals and failures of a sync init answer once, through Fastify, and end the stream once', async (t) => {
  const terminated: string[] = []
  const terminate = (reason: string): void => { terminated.push(reason) }
  const { url, logs } = await app(t, {
    '/throws': { init: () => { throw Object.assign(new Error('no'), { statusCode: 403 }) }, terminate },
    '/no-content': { init: () => noContent(), terminate },
    '/shutdown': { init: () => shutdown(409, { body: 'busy' }), terminate },
    '/rejects': { init: async () => { throw Object.assign(new Error('later'), { statusCode: 401 }) }, terminate }
  })
  t.equal((await get(url + '/throws')).status, 403)
  t.equal((await get(url + '/no-content')).status, 204)
  t.same(await get(url + '/shutdown'), { status: 409, body: 'busy' })
  t.equal((await get(url + '/rejects')).status, 401)
  const head = await get(url + '/throws', 'HEAD')
  t.equal(head.status, 200, 'HEAD answers the stream headers without running init')
  await eventually(() => terminated.length === 4)
  t.same(terminated.sort(), ['error', 'error', 'stopped', 'stopped'], 'terminate once per stream, with its reason')
  t.equal(answeredTwice(logs), 0, 'Fastify never saw a second answer')
})

t.test('a client that asks again on the same connection after a sync-opened stream ended is answered', async (t) => {
  const { url } = await app(t, { '/once': { init: (token) => { token.close('data: bye\n\n') } } })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  for (let i = 0; i < 3; i++) {
    const body = await new Promise<string>((resolve, reject) => {
      http.get(url + '/once', { agent }, (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => { text += chunk.toString() })
        response.on('end', () => resolve(text))
      }).on('error', reject)
    })
    t.match(body, /data: bye/, `request ${i + 1} on one connection`)
  }
})

t.test('an async wrapper that returns the route\'s result, with an async onSend hook: one answer each (HEAD, a 503 sent away)', async (t) => {
  const { url, logs } = await app(t, { '/s': { handle: () => undefined } }, { wrapper: 'async', slowOnSend: true, maxConnections: 1, ndjson: true })
  const held = await openStream(url + '/s')
  t.teardown(() => held.close())
  t.equal((await get(url + '/s', 'HEAD')).status, 200, 'HEAD: the stream headers')
  t.equal((await get(url + '/s')).status, 503, 'full: an ndjson stream is sent away with a status, through Fastify')
  await new Promise((resolve) => setTimeout(resolve, 50)) // the onSend hooks' 5 ms, and the logs after
  t.equal(answeredTwice(logs), 0, 'Fastify never saw a second answer')
})

t.test('a head Node refuses (a hook set a bad header value): the client is cut, the stream ends with error, the cause is logged', async (t) => {
  const terminated: string[] = []
  const { fastify, url, logs } = await app(t, { '/bad': { init: (token) => { token.send('hi') }, handle: () => undefined, terminate: (reason) => { terminated.push(reason) } } }, {
    hook: (app) => { app.addHook('onRequest', async (_request, reply) => { reply.header('x-bad', 'a\u0000b') }) }
  })
  await t.rejects(get(url + '/bad'), 'the connection is cut, not left waiting')
  await eventually(() => terminated.length === 1)
  t.same(terminated, ['error'])
  await eventually(() => fastify.sse.connections === 0)
  t.ok(logs.some((line) => (line.err as { code?: string } | undefined)?.code === 'ERR_INVALID_CHAR'), 'the cause is in the log')
})

t.test('an init result whose then getter throws is an init that threw: terminate(error), its status', async (t) => {
  const terminated: string[] = []
  const { url } = await app(t, {
    '/getter': {
      init: () => ({ get then () { throw Object.assign(new Error('getter'), { statusCode: 418 }) } }) as never,
      terminate: (reason) => { terminated.push(reason) }
    }
  })
  t.equal((await get(url + '/getter')).status, 418)
  await eventually(() => terminated.length === 1)
  t.same(terminated, ['error'])
})

t.test('a route function called on a reply sent already: the error reaches the log with its code', async (t) => {
  const { logs, logger } = captureLogs('warn')
  const fastify = Fastify({ logger })
  await fastify.register(ssePlugin, { heartbeat: false })
  const route = chunked({ handle: () => undefined }) as RouteFunction
  fastify.get('/twice', async (request, reply) => {
    await reply.send('first')
    return route(request, reply)
  })
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => fastify.close())
  t.same(await get(url + '/twice'), { status: 200, body: 'first' })
  await eventually(() => logs.some((line) => JSON.stringify(line).includes('SSE_ERR_REPLY_SENT')))
  t.pass('SSE_ERR_REPLY_SENT logged')
})
