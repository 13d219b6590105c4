import http from 'node:http'
import t from 'tap'
import { topics } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'
import { startApp } from './helpers/app.js'
import { eventually, openStream } from './helpers/stream.js'

/** One plain request on a fresh connection: status, headers and the whole body. */
function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers, agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    }).on('error', reject)
  })
}

/** An app whose one stream takes `ms` to say goodbye, so `close()` stays in its drain that long. */
async function slowToClose (t: Parameters<typeof startApp>[0]) {
  let release!: () => void
  const goodbye = new Promise<void>((resolve) => { release = resolve })
  const started = await startApp(t, { shutdownTimeout: 5000 }, (app) => {
    app.get('/slow', { chunk: true, handler: { init () {}, terminate: () => goodbye } })
    app.get('/feed', { chunk: true, handler: topics(() => ['feed']) })
    app.get('/plain', async () => ({ ok: true }))
  })
  const held = await openStream(`${started.url}/slow`)
  await eventually(() => started.app.sse.connections === 1)
  const closing = started.app.close()
  return { ...started, held, closing, release }
}

t.test('item 3: an SSE request that arrives while the app closes gets a 200 with a jittered retry, not a 503', async (t) => {
  const { url, closing, release } = await slowToClose(t)
  const reconnect = await get(`${url}/feed`, { accept: 'text/event-stream', 'last-event-id': 'feed=abc.1' })
  t.equal(reconnect.status, 200, 'EventSource is not told to stop')
  t.match(reconnect.headers['content-type'], /^text\/event-stream/)
  t.match(reconnect.body, /^retry: \d+\n\n$/, 'only a retry')
  const idOnly = await get(`${url}/feed`, { 'last-event-id': 'feed=abc.1' })
  t.equal(idOnly.status, 200, 'a reconnect that sends its last id but no Accept')
  const cors = await get(`${url}/feed`, { accept: 'text/event-stream', origin: 'http://app.example' })
  t.equal(cors.headers['access-control-allow-origin'], 'http://app.example', 'a cross-origin EventSource can read the retry')
  const plain = await get(`${url}/plain`)
  t.equal(plain.status, 503, 'other routes keep Fastify\'s own answer')
  release()
  await closing
})

t.test('item 3: a stream still in init at shutdown gets the retry, not an error status', async (t) => {
  let initStarted = false
  const { app, url } = await startApp(t, {}, (app) => {
    app.get('/waits', {
      chunk: true,
      handler: {
        async init (token) {
          initStarted = true
          await new Promise((_resolve, reject) => token.signal.addEventListener('abort', () => reject(new Error('aborted'))))
        }
      }
    })
  })
  const response = get(`${url}/waits`, { accept: 'text/event-stream' })
  await eventually(() => initStarted)
  await app.close()
  const { status, body } = await response
  t.equal(status, 200)
  t.match(body, /^retry: \d+\n\n$/)
})

t.test('item 3: a new stream while the broker is unreachable is sent away with a retry, not a 503', async (t) => {
  // Nothing listens on port 1: every call to this broker fails at once.
  const broker = redisBroker({ url: 'redis://127.0.0.1:1', commandTimeout: 200 })
  const { url } = await startApp(t, { broker }, (app) => {
    app.get('/feed', { chunk: true, handler: topics(() => ['feed']) })
  })
  const { status, body } = await get(`${url}/feed`, { accept: 'text/event-stream' })
  t.equal(status, 200)
  t.match(body, /^retry: \d+\n\n$/)
})
