import t from 'tap'
import { connect, SseClient, MAX_RETRY_AFTER, MIN_RETRY, type ClientStatusError } from '../../lib/client/index.js'
import { httpServer, streamThenEnd } from './helpers.js'

// A server that asks for `retry: 0` and ends every stream at once: without a floor, a reconnect loop
// as fast as the network. Over WINDOW ms a client may make one request, then one per MIN_RETRY at most.
const WINDOW = 600
const MOST = Math.floor(WINDOW / MIN_RETRY) + 1

t.test('item 9: connect() against retry: 0 and streams that end reconnects at most once per MIN_RETRY', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'retry: 0\ndata: a\n\n'))
  const signal = AbortSignal.timeout(WINDOW)
  await t.rejects(async () => {
    for await (const event of connect(server.url, { signal })) t.equal(event.data, 'a')
  }, { name: 'TimeoutError' })
  t.ok(server.requests.length >= 1 && server.requests.length <= MOST, `${server.requests.length} requests, at most ${MOST}`)
})

t.test('item 9: SseClient against retry: 0 and streams that end reconnects at most once per MIN_RETRY', async (t) => {
  const server = await httpServer(t, (_req, res) => streamThenEnd(res, 'retry: 0\ndata: a\n\n'))
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url }, state }),
    handleEvent: (_event, state) => state
  }, null, { retry: 0 })
  setTimeout(() => client.stop(), WINDOW)
  t.equal((await client.closed).reason, 'stopped')
  t.ok(server.requests.length >= 1 && server.requests.length <= MOST, `${server.requests.length} requests, at most ${MOST}`)
})

t.test('item 9: a 503 with Retry-After: 2000000 is waited MAX_RETRY_AFTER, not 23 days', async (t) => {
  const server = await httpServer(t, (_req, res) => res.writeHead(503, { 'retry-after': '2000000' }).end())
  const client = SseClient.start({
    init: (state) => ({ connect: { url: server.url }, state }),
    // The default would wait that long: stop here and look at what the client would wait.
    handleConnectFailure: (reason) => ({ stop: (reason as ClientStatusError).retryAfter }),
    handleEvent: (_event, state) => state
  }, null)
  t.equal((await client.closed).reason, MAX_RETRY_AFTER)
})
