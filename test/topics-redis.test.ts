import t from 'tap'
import { Event, topics } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { redisAvailable, redisCluster } from './helpers/redis.js'
import { eventually, openStream } from './helpers/stream.js'
import { topicsSuite } from './helpers/topics-suite.js'

const up = await redisAvailable(t)

if (up) {
  // The very tests the memory broker passes, on Redis.
  t.test('the topics suite on Redis', async (t) => {
    // commandTimeout is counted on this process's event loop, which the suite's own 1,000 readers keep
    // busy for most of a second per 64 KB event (800 ms seen under CI load): a timeout there would fail
    // a publish Redis had already answered.
    topicsSuite(t, async () => ({ broker: redisCluster(t, { commandTimeout: 10_000 })(), cleanup: async () => {} }))
  })

  t.test('three instances share topics, resume across instances and close topics everywhere', async (t) => {
    const broker = redisCluster(t)
    const instances = await Promise.all([0, 1, 2].map(() => startApp(t, { broker: broker(), heartbeat: false }, (app) => {
      app.get('/news', { chunk: true, handler: topics(() => ['news']) })
    })))
    const [a, b, c] = instances
    const streams = await Promise.all(instances.map(({ url }) => openStream(`${url}/news`)))
    await eventually(() => instances.every(({ app }) => app.sse.connections === 1))
    for (let n = 1; n <= 3; n++) await instances[n % 3].app.sse.publish('news', { n })
    await Promise.all(streams.map((s) => s.waitFor(3)))
    t.same(streams.map((s) => s.events.map((e) => JSON.parse(e.data).n)), [[1, 2, 3], [1, 2, 3], [1, 2, 3]], 'a publish on one reaches streams on all')
    t.equal(new Set(streams.map((s) => s.events[2].id)).size, 1, 'the same cursor on every instance')

    // The client on A leaves, events are published meanwhile, it comes back to B.
    const lastId = streams[0].events[2].id!
    streams[0].close()
    await eventually(() => a.app.sse.connections === 0)
    for (let n = 4; n <= 6; n++) await c.app.sse.publish('news', { n })
    const moved = await openStream(`${b.url}/news`, { headers: { 'last-event-id': lastId } })
    await moved.waitFor(3)
    t.same(moved.events.map((e) => JSON.parse(e.data).n), [4, 5, 6], 'resumed exactly on another instance')

    await a.app.sse.closeTopic('news', new Event({ event: 'done', data: 'bye' }))
    await Promise.all([streams[1].ended, streams[2].ended, moved.ended])
    t.equal(moved.events.at(-1)?.event, 'done')
    const again = await openStream(`${c.url}/news`)
    t.equal(again.status, 204, 'the tombstone is seen by every instance')
  })
}
