// example/lasse.ts over a real socket (seed 001): every init outcome, notify to handleNotify apart
// from handle, handleError when a chunk is bad, terminate with its reason.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildLasseApp } from '../example/lasse.js'
import { eventually, openStream } from './helpers/stream.js'

async function start (t: Test, options: Parameters<typeof buildLasseApp>[0] = {}) {
  const app = await buildLasseApp({ heartbeat: false, tick: false, ...options })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const notify = async (user: string, body: unknown) => {
    const response = await request(`${url}/notify/${user}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    await response.body.dump()
    return response.statusCode
  }
  const journal = async (): Promise<string[]> => (await request(`${url}/journal`)).body.json() as Promise<string[]>
  const connected = async (): Promise<string[]> => (await request(`${url}/streams`)).body.json() as Promise<string[]>
  return { app, url, notify, journal, connected }
}

t.test('every init outcome: shutdown, a thrown error, noContent, stop, open, open with initial events', async (t) => {
  const { url, notify } = await start(t)
  const missing = await request(`${url}/events`)
  t.equal(missing.statusCode, 400, 'shutdown(400, ...)')
  t.equal(missing.headers['cache-control'], 'no-store', 'with its headers')
  t.same(await missing.body.json(), { error: 'a user is required: ?user=NAME' }, 'and its body')

  const banned = await request(`${url}/events?user=mallory`)
  t.equal(banned.statusCode, 403, 'a thrown error goes through Fastify\'s error handler')
  t.match(await banned.body.json(), { message: 'mallory may not listen' })

  const once = await openStream(`${url}/events?user=ann&once=1`)
  await once.ended
  t.same(once.events.map((e) => [e.event, e.id, e.event === 'goodbye' ? e.data : '']), [['snapshot', '1', ''], ['goodbye', undefined, 'stopped']],
    'stop(final): final, then what terminate returned')

  const fresh = await openStream(`${url}/events?user=ann`)
  t.equal(fresh.status, 200, 'nothing returned: the stream opens')
  t.equal(await notify('ann', { text: 'first' }), 202)
  await fresh.waitFor(1)
  t.same(fresh.events.map((e) => [e.event, e.id]), [['notify', '1']], 'nothing was written before the first notification')
  fresh.close()

  const back = await openStream(`${url}/events?user=bob`, { headers: { 'last-event-id': '7' } })
  await back.waitFor(1)
  t.match(back.text(), /^: ?welcome back\n\n/, 'an initial comment')
  t.same(back.events[0], { event: 'resumed', id: '7', data: JSON.stringify({ after: '7' }) }, 'an initial event with event, id and data')
  t.same(back.retries, [5000], 'and retry')
  t.equal(await notify('bob', { text: 'next' }), 202)
  await back.waitFor(2)
  t.equal(back.events[1].id, '8', 'numbering goes on from Last-Event-ID')
  t.equal(await notify('bob', { stop: true }), 202)
  await back.ended
  t.same(back.events.slice(2).map((e) => [e.event, e.data]), [['bye', 'your feed is over'], ['goodbye', 'stopped']])
  const after = await request(`${url}/events?user=bob`)
  t.equal(after.statusCode, 204, 'a finished feed: noContent(), so EventSource stops reconnecting')
  await after.body.dump()
})

t.test('app.sse.notify goes to handleNotify, the stream\'s own timer to handle', async (t) => {
  const { url, notify } = await start(t, { tick: 30 })
  const stream = await openStream(`${url}/events?user=ann`)
  await stream.waitFor(1)
  t.equal(stream.events[0].event, 'tick', 'handle (Lasse\'s handle_info) gets the timer')
  t.equal(await notify('ann', { text: '' }), 202, 'an empty text: nosend')
  t.equal(await notify('ann', { text: 'hello', event: 'greeting' }), 202)
  t.equal(await notify('ann', { raw: 'data: as it is\n\n' }), 202, 'a raw chunk')
  await eventually(() => stream.events.some((e) => e.data === 'as it is'))
  const notified = stream.events.filter((e) => e.event !== 'tick')
  t.same(notified.map((e) => [e.event, e.data]), [['greeting', JSON.stringify({ text: 'hello' })], [undefined, 'as it is']], 'handleNotify (Lasse\'s handle_notify) gets what notify sent, in order')
  t.ok(stream.events.filter((e) => e.event === 'tick').length >= 1)
  const ids = stream.events.filter((e) => e.id !== undefined).map((e) => Number(e.id))
  t.same(ids, ids.map((_, i) => i + 1), 'handle and handleNotify share the state: one numbering')
  t.equal(await notify('nobody', { text: 'x' }), 404, 'notify to no stream: false')
  stream.close()
})

t.test('handleError runs when handleNotify makes a bad chunk or a forged event, then terminate("error")', async (t) => {
  const { url, notify, journal, connected } = await start(t)
  // The headers come after init: the stream is in the address book by then.
  const forged = await openStream(`${url}/events?user=ann`)
  t.equal(await notify('ann', { text: 'x', event: 'x\ndata: forged' }), 202)
  await forged.ended
  t.same(forged.events, [], 'nothing forged reached the client')
  const bad = await openStream(`${url}/events?user=bob`)
  t.same(await connected(), ['bob'])
  t.equal(await notify('bob', { raw: 42 }), 202)
  await bad.ended // terminate runs before the stream ends
  t.same(await journal(), [
    'init ann',
    'handleError ann SSE_ERR_INVALID_FIELD',
    'terminate ann error',
    'init bob',
    'handleError bob SSE_ERR_INVALID_CHUNK',
    'terminate bob error'
  ])
  t.same(await connected(), [], 'terminate took them out of the address book')
})

t.test('terminate: a client that leaves ends its stream "client-closed" and leaves the address book', async (t) => {
  const { app, url, journal, connected } = await start(t)
  const stream = await openStream(`${url}/events?user=ann`)
  await eventually(() => app.sse.connections === 1)
  t.same(await connected(), ['ann'])
  stream.close()
  await eventually(() => app.sse.connections === 0)
  t.same(await journal(), ['init ann', 'terminate ann client-closed'])
  t.same(await connected(), [])
})

t.test('at shutdown terminate says goodbye', async (t) => {
  const { app, url } = await start(t)
  const stream = await openStream(`${url}/events?user=ann`)
  await eventually(() => app.sse.connections === 1)
  await app.close()
  await stream.ended
  t.same(stream.events.map((e) => [e.event, e.data]), [['goodbye', 'shutdown']])
})
