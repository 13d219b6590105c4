// example/pubsub.ts over real sockets (seed 004): streams subscribed to a topic get what Demo.send
// broadcasts, then :done (closeTopic) ends them; a reconnect gets 204 until the topic is reopened.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildPubSubApp, demoSend } from '../example/pubsub.js'
import { eventually, openStream } from './helpers/stream.js'

async function start (t: Test) {
  const app = await buildPubSubApp({ interval: 10, heartbeat: false })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const post = async (path: string): Promise<{ status: number, body: string }> => {
    const response = await request(url + path, { method: 'POST' })
    return { status: response.statusCode, body: await response.body.text() }
  }
  return { app, url, post }
}

const items = ['分片数据 1', '分片数据 2', '分片数据 3', '分片数据 4', '分片数据 5']

t.test('every subscribed stream gets the five broadcasts, then :done ends it; a reconnect gets 204', async (t) => {
  const { app, url, post } = await start(t)
  const streams = [await openStream(`${url}/api/stream-in-umbrella`), await openStream(`${url}/api/stream-in-umbrella`)]
  await eventually(() => app.sse.connections === 2)
  t.equal((await post('/api/demo-send')).status, 202, 'Demo.send')
  for (const stream of streams) {
    await stream.ended
    t.same(stream.events.map((e) => [e.event, e.data]), [...items.map((data) => [undefined, data]), ['done', '收到结束信号']])
  }
  t.equal(app.sse.connections, 0, 'every stream on the topic ended')
  const back = await request(`${url}/api/stream-in-umbrella`, { headers: { 'last-event-id': streams[0].events[4].id! } })
  t.equal(back.statusCode, 204, 'a client that has everything is told to stop')
  await back.body.dump()
  const fresh = await request(`${url}/api/stream-in-umbrella`)
  t.equal(fresh.statusCode, 204, 'so is a new one: the topic is closed')
  await fresh.body.dump()
})

t.test('a client that was away when :done came gets what it missed, then the end', async (t) => {
  const { app, url } = await start(t)
  const early = await openStream(`${url}/api/stream-in-umbrella`)
  await eventually(() => app.sse.connections === 1)
  const { rest } = await demoSend(app.sse, 10)
  await early.waitFor(2)
  early.close()
  const seen = early.events.slice(0, 2)
  await rest // the topic is closed now
  const back = await openStream(`${url}/api/stream-in-umbrella`, { headers: { 'last-event-id': seen[1].id! } })
  t.equal(back.status, 200)
  await back.ended
  t.same([...seen, ...back.events].map((e) => e.data), [...items, '收到结束信号'], 'once each, in order')
})

t.test('a closed topic refuses Demo.send until it is reopened; then it runs again', async (t) => {
  const { app, url, post } = await start(t)
  const first = await openStream(`${url}/api/stream-in-umbrella`)
  await eventually(() => app.sse.connections === 1)
  await post('/api/demo-send')
  await first.ended
  const refused = await post('/api/demo-send')
  t.equal(refused.status, 410, 'publish to a closed topic')
  t.match(JSON.parse(refused.body), { code: 'SSE_ERR_TOPIC_CLOSED' })
  t.equal((await post('/api/reopen')).status, 204)
  const again = await openStream(`${url}/api/stream-in-umbrella`)
  t.equal(again.status, 200, 'open again')
  await eventually(() => app.sse.connections === 1)
  t.equal((await post('/api/demo-send')).status, 202)
  await again.ended
  t.same(again.events.map((e) => e.data), [...items, '收到结束信号'])
})
