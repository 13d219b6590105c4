import t, { type Test } from 'tap'
import { type Broker, Event, topics } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'
import { slotOf, topicKeys } from '../lib/redis/keys.js'
import { removeClusterKeys, topicsByMaster, userCluster } from './broker/redis-cluster-fixture.js'
import { newPrefix } from './broker/redis-fixture.js'
import { startApp } from './helpers/app.js'
import { type LocalCluster, whenCluster } from './helpers/redis-cluster.js'
import { eventually, openStream, type TestStream } from './helpers/stream.js'

// Three Fastify instances on a 3-master Redis Cluster that this file starts: fan-out, resume on another
// instance, each topic a shard channel on its own master; then the cluster's faults under live streams.

type App = Awaited<ReturnType<typeof startApp>>

/** Three instances with a route per topic (`/<topic>`), their brokers on one fresh prefix. */
async function instances (t: Test, cluster: LocalCluster, names: string[], prefix = newPrefix()): Promise<{ prefix: string, apps: App[] }> {
  const brokers: Broker[] = [
    redisBroker({ cluster: cluster.startupNodes, prefix }),
    redisBroker({ client: userCluster(t, cluster), prefix }),
    redisBroker({ cluster: cluster.startupNodes }, { prefix })
  ]
  t.teardown(() => removeClusterKeys(cluster, prefix))
  const apps = await Promise.all(brokers.map((broker) => startApp(t, { broker, heartbeat: false }, (app) => {
    for (const name of names) app.get(`/${name}`, { chunk: true, handler: topics(() => [name]) })
  })))
  return { prefix, apps }
}

const numbers = (stream: TestStream): Array<number | 'reset'> =>
  stream.events.map((event) => event.event === 'reset' ? 'reset' : JSON.parse(event.data).n)

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Publishes n = from, from + 1, ... from the instances in turn until `stop`; a failed publish is counted and skipped. */
async function publishUntil (apps: App[], topic: string, stop: (acked: number[], epochs: string[]) => boolean, from = 1): Promise<{ acked: number[], epochs: string[], failed: number }> {
  const acked: number[] = []
  const epochs: string[] = []
  let failed = 0
  for (let n = from; !stop(acked, epochs); n++) {
    try {
      const position = await apps[n % apps.length].app.sse.publish(topic, { n })
      acked.push(n)
      epochs.push(/=([^.]+)\./.exec(position)![1])
    } catch {
      failed++
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return { acked, epochs, failed }
}

await whenCluster(t, (cluster) => {
  t.test('three instances: fan-out, exact resume on another instance, each topic a shard channel on its master, close everywhere', async (t) => {
    const prefix = newPrefix()
    const byMaster = await topicsByMaster(cluster, prefix)
    const names = [...byMaster.values()].flat()
    const { apps } = await instances(t, cluster, names, prefix)
    const streams = await Promise.all(names.flatMap((name) => apps.map(({ url }) => openStream(`${url}/${name}`))))
    // A stream writes its cursor once it is subscribed.
    await eventually(() => streams.every((stream) => /^id: /m.test(stream.text())))

    for (const [port, owned] of byMaster) {
      const admin = cluster.admin(port)
      const channels = owned.map((name) => topicKeys(prefix, name).channel)
      t.same(await admin.pubsub('SHARDCHANNELS', `${prefix}*`), channels, `master ${port}: the shard channel of its topic`)
      t.same(await admin.pubsub('CHANNELS', `${prefix}*`), [], `master ${port}: no classic channel`)
      t.same(await admin.pubsub('SHARDNUMSUB', ...channels), [channels[0], 3], 'all three instances subscribed')
    }

    for (let n = 1; n <= 3; n++) for (const name of names) await apps[n % 3].app.sse.publish(name, { n })
    await Promise.all(streams.map((stream) => stream.waitFor(3)))
    t.ok(streams.every((stream) => numbers(stream).join() === '1,2,3'), 'every stream on every instance got every event of its topic')

    const [name] = names
    const leaving = streams[0]
    const lastId = leaving.events[2].id!
    leaving.close()
    await eventually(() => apps[0].app.sse.connections === names.length - 1)
    for (let n = 4; n <= 6; n++) await apps[2].app.sse.publish(name, { n })
    const moved = await openStream(`${apps[1].url}/${name}`, { headers: { 'last-event-id': lastId } })
    await moved.waitFor(3)
    t.same(numbers(moved), [4, 5, 6], 'resumed exactly on another instance')

    await apps[0].app.sse.closeTopic(name, new Event({ event: 'done', data: 'bye' }))
    await Promise.all([streams[1].ended, streams[2].ended, moved.ended])
    t.equal(moved.events.at(-1)?.event, 'done')
    t.equal((await openStream(`${apps[2].url}/${name}`)).status, 204, 'the tombstone is seen by every instance')
    for (const stream of streams) stream.close()
  })

  t.test('a topic\'s slot moves to another master while events are published: every stream gets every event once, no reset; a resume elsewhere is exact', async (t) => {
    const { prefix, apps } = await instances(t, cluster, ['news'])
    const streams = await Promise.all(apps.map(({ url }) => openStream(`${url}/news`)))
    await eventually(() => apps.every(({ app }) => app.sse.connections === 1))
    const slot = slotOf(topicKeys(prefix, 'news').channel)
    const from = await cluster.ownerOf(topicKeys(prefix, 'news').channel)
    const to = cluster.nodes.find((node) => node.port !== from)!.port

    let moving: Promise<void> | undefined
    let leftAt: string | undefined
    const { epochs, failed } = await publishUntil(apps, 'news', (acked) => {
      if (acked.length === 50) moving ??= cluster.moveSlot(slot, to)
      if (acked.length >= 100 && leftAt === undefined && streams[2].events.length > 0) {
        leftAt = streams[2].events.at(-1)!.id
        streams[2].close()
      }
      return acked.length >= 200
    })
    await moving
    t.equal(failed, 0, 'no publish failed')
    t.equal(new Set(epochs).size, 1, 'one epoch')
    await Promise.all(streams.slice(0, 2).map((stream) => stream.waitFor(200)))
    for (const stream of streams.slice(0, 2)) t.same(numbers(stream), range(1, 200), 'every event once, in order, no reset')
    const back = await openStream(`${apps[0].url}/news`, { headers: { 'last-event-id': leftAt! } })
    const next = Number(/\.(\d+)$/.exec(leftAt!)![1]) + 1
    await back.waitFor(200 - next + 1)
    t.same(numbers(back), range(next, 200), 'the client that left resumed exactly on another instance')
    for (const stream of [...streams, back]) stream.close()
    await cluster.moveSlot(slot, from)
  })

  t.test('the master of a topic\'s slot killed (-9) and restarted while events are published: streams catch up with a reset, then every new event', async (t) => {
    const { prefix, apps } = await instances(t, cluster, ['news'])
    const streams = await Promise.all(apps.map(({ url }) => openStream(`${url}/news`)))
    await eventually(() => apps.every(({ app }) => app.sse.connections === 1))
    const owner = await cluster.ownerOf(topicKeys(prefix, 'news').channel)

    const first = await publishUntil(apps, 'news', (acked) => acked.length >= 30)
    await Promise.all(streams.map((stream) => stream.waitFor(30)))
    const lastId = streams[2].events.at(-1)!.id
    streams[2].close()
    let restarted = false
    const restart = cluster.restart(owner).then(() => { restarted = true })
    const { acked, epochs, failed } = await publishUntil(apps, 'news', (_acked, epochs) =>
      restarted && epochs.filter((epoch) => epoch !== first.epochs[0]).length >= 30, 31)
    await restart
    t.ok(failed > 0, `publishes failed while the master was down (${failed})`)
    const renewed = acked.filter((_, i) => epochs[i] !== first.epochs[0])
    for (const stream of streams.slice(0, 2)) {
      await eventually(() => numbers(stream).at(-1) === renewed.at(-1))
      const got = numbers(stream)
      const reset = got.indexOf('reset')
      t.ok(reset >= 30, 'the events delivered before the kill, then a reset')
      t.same(got.slice(0, reset), range(1, reset), 'before: in order, once each')
      t.same(got.slice(reset + 1), renewed, 'after: every event of the new epoch, once, in order')
    }
    // The client that left before the kill comes back to another instance: its epoch is gone.
    const back = await openStream(`${apps[0].url}/news`, { headers: { 'last-event-id': lastId! } })
    await back.waitFor(1)
    await apps[1].app.sse.publish('news', { n: 'late' })
    await back.waitFor(2)
    t.same(back.events.map((event) => event.event ?? JSON.parse(event.data).n), ['reset', 'late'], 'a reset, then live')
    for (const stream of [...streams, back]) stream.close()
  })
})
