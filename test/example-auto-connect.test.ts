// example/auto-connect.ts over real sockets (seed 003): the AutoConnect handler against a server
// that refuses, drops and sends a malformed event; the restart policy brings it back from init.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildFlakyServer, startAutoConnect } from '../example/auto-connect.js'
import type { ParsedEvent } from '../lib/client/index.js'

async function start (t: Test, options: Parameters<typeof buildFlakyServer>[0]) {
  const server = await buildFlakyServer(options)
  const url = await server.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  const requests = async (): Promise<Array<string | null>> => (await request(`${url}/requests`)).body.json() as Promise<Array<string | null>>
  return { url: `${url}/events`, requests }
}

t.test('AutoConnect: a refused connection retried, drops reconnected at once, a crash restarted, a 204 stops it', async (t) => {
  const { url, requests } = await start(t, { interval: 10, dropEvery: 3, poison: 5, total: 8 })
  const got: unknown[] = []
  const ids: string[] = []
  const client = startAutoConnect(url, {
    failureDelay: 20,
    onEvent: (data, event: ParsedEvent) => { got.push(data); ids.push(event.lastEventId) }
  })
  const { reason, state } = await client.closed
  t.equal(reason, 'no-content', 'the server had nothing more: a 204 stopped it')
  t.same(got, [1, 2, 3, 4, 6, 7, 8].map((n) => ({ n })), 'every event once, in order; the malformed one (5) crashed the handler and was not asked for again')
  t.equal(client.restarts, 1, 'restarted once, from init')
  t.same(state, { url, lastEventId: '8' })
  t.same(await requests(), [
    '0', // refused with a 503: handleConnectFailure connects again after failureDelay
    '0', // events 1 to 3, then the server drops: handleDisconnect reconnects at once
    '3', // events 4 and 5; 5 is not JSON: handleEvent throws, restart: 'transient' starts over
    '5', // init again: the checkpoint outlived the crash; events 6 to 8, then a drop
    '8' // a 204: the client stops
  ], 'the Last-Event-ID of each request')
})

t.test('AutoConnect: handleInfo(\'stop\') stops it normally', async (t) => {
  const { url } = await start(t, { interval: 10, dropEvery: 100, total: 100 })
  let events = 0
  const client = startAutoConnect(url, { failureDelay: 10, onEvent: () => { if (++events === 2) client.send('stop') } })
  const { reason } = await client.closed
  t.equal(reason, 'normal')
  t.equal(client.restarts, 0)
  t.equal(events, 2)
})

t.test('AutoConnect: a handler that crashes on every run is given up after maxRestarts', async (t) => {
  // onEvent throws on every event: each run crashes at its first event.
  const { url } = await start(t, { interval: 5, total: 1000, dropEvery: 1000 })
  const client = startAutoConnect(url, { failureDelay: 10, onEvent: () => { throw new Error('always') } })
  await t.rejects(client.closed, { message: 'always' }, 'closed rejects with the last error')
  t.equal(client.restarts, 3, 'three restarts, then the supervisor gives up')
})
