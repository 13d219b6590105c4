// A stream whose init returns at once opens in the route function's own call: no promise goes back
// to Fastify, the head is written before the call returns. What must not change with it: a route
// function that sends at once returns nothing (else Fastify logs "already sent"), every init that
// throws, refuses or is async still ends as before, and a thenable init is awaited like a promise.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import http from 'node:http'
import t, { type Test } from 'tap'
import { type ChunkedHandler, chunked, noContent, shutdown, ssePlugin, topics } from '../lib/index.js'
import { captureLogs } from './helpers/logs.js'
import { eventually, openStream } from './helpers/stream.js'

interface Call { returned: unknown, headersSentOnReturn: boolean }

/** A route function of `chunked(handler)` called by a plain route, which records what it returned. */
function recorded (handler: Parameters<typeof chunked>[0], calls: Call[]) {
  const route = chunked(handler)
  return (request: FastifyRequest, reply: FastifyReply) => {
    const returned = (route as (request: FastifyRequest, reply: FastifyReply) => unknown)(request, reply)
    calls.push({ returned, headersSentOnReturn: reply.raw.headersSent })
    return returned
  }
}

async function app (t: Test, routes: Record<string, ChunkedHandler<any, any, any>>) {
  const { logs, logger } = captureLogs('warn')
  const calls: Record<string, Call[]> = {}
  const fastify = Fastify({ logger })
  await fastify.register(ssePlugin, { heartbeat: false })
  for (const [path, handler] of Object.entries(routes)) {
    calls[path] = []
    fastify.get(path, recorded(handler, calls[path]))
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

const alreadySent = (logs: Array<Record<string, unknown>>): number => logs.filter((line) => JSON.stringify(line).includes('FST_ERR_REP_ALREADY_SENT')).length

t.test('sync init: the route function returns nothing, with the head already written; async init: a promise', async (t) => {
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
    t.equal(call.returned, undefined, `${path}: nothing returned`)
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
  t.equal(alreadySent(logs), 0, 'Fastify never saw a second answer')
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
  t.equal(alreadySent(logs), 0, 'Fastify never saw a second answer')
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
