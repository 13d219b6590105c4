import t from 'tap'
import { slotOf, topicKeys } from '../../lib/redis/keys.js'
import { whenCluster } from '../helpers/redis-cluster.js'
import { frozenPathCatchesUp, Recorder, range } from './recorder.js'
import { clusterFixture, publishUntil, shardChannels, until, userCluster } from './redis-cluster-fixture.js'
import { TcpProxy } from './tcp-proxy.js'

// Faults of a real Redis Cluster under a running broker: a slot that moves to another master while
// events are published (MOVED, ASK and the old owner's sunsubscribe), and a master killed and started
// again. Three masters, no replicas: a restarted master has lost its data, so its topics begin a new
// epoch; the slot move is the fault without loss, and must be exact.

await whenCluster(t, (cluster) => {
  t.test('redis cluster: a topic\'s slot moves to another master while events are published: every offset once, in order, one epoch; the channel follows', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const brokers = [make(), make()]
    const recorders = [new Recorder(), new Recorder()]
    await Promise.all(brokers.map((broker, i) => broker.listen('room', recorders[i])))
    const { channel } = topicKeys(prefix, 'room')
    const from = await cluster.ownerOf(channel)
    const to = cluster.nodes.find((node) => node.port !== from)!.port

    let moving: Promise<void> | undefined
    const { acked, failed } = await publishUntil(brokers, 'room', (acked) => {
      if (acked.length === 100) moving ??= cluster.moveSlot(slotOf(channel), to)
      return acked.length >= 400
    })
    await moving
    t.equal(failed, 0, 'no publish failed: MOVED and ASK are followed')
    t.equal(await cluster.ownerOf(channel), to, 'the slot moved')
    t.equal(new Set(acked.map((event) => event.epoch)).size, 1, 'one epoch: nothing was lost')
    for (const recorder of recorders) {
      await recorder.untilOffset(400)
      t.same(recorder.offsets, range(1, 400), 'every offset exactly once, in order')
    }
    await until('the channel on its new master', async () => (await shardChannels(cluster, to, channel)).length === 1)
    t.same(await shardChannels(cluster, from, channel), [], 'and no longer on the old one')
    const after = await brokers[0].publish('room', { data: 'after' })
    for (const recorder of recorders) await recorder.untilOffset(after.offset)
    t.pass('live delivery goes on from the new master')
    // Put it back: the other tests of this file expect the cluster's first layout.
    await cluster.moveSlot(slotOf(channel), from)
  })

  t.test('redis cluster: the old owner\'s sunsubscribe alone moves a listener; a listen with a stale slot map follows MOVED', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    // No periodic refresh within the test: only the server's own messages can tell these brokers.
    const stale = { slotsRefreshInterval: 600_000 }
    const listening = make({ client: userCluster(t, cluster, stale) })
    const late = make({ client: userCluster(t, cluster, stale) }, { commandTimeout: 300 })
    const publishing = make()
    const recorder = new Recorder()
    await listening.listen('room', recorder)
    await late.read('room')
    await publishing.publish('room', { data: '1' })
    await recorder.untilOffset(1)

    const { channel } = topicKeys(prefix, 'room')
    const from = await cluster.ownerOf(channel)
    const to = cluster.nodes.find((node) => node.port !== from)!.port
    await cluster.moveSlot(slotOf(channel), to)
    await publishing.publish('room', { data: '2' })
    await recorder.untilOffset(2)
    t.same(recorder.offsets, [1, 2], 'the listener followed the slot')

    const lateRecorder = new Recorder()
    await late.listen('room', lateRecorder)
    await publishing.publish('room', { data: '3' })
    await Promise.all([recorder.untilOffset(3), lateRecorder.untilOffset(3)])
    t.same(lateRecorder.offsets, [3], 'the late listener is live on the new master')
    t.same(await shardChannels(cluster, to, channel), [channel])
    await cluster.moveSlot(slotOf(channel), from)
  })

  t.test('redis cluster: CLIENT KILL of the shard subscribers during publishes loses nothing', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const [listening, publishing] = [make(), make()]
    const recorder = new Recorder()
    await listening.listen('room', recorder)
    const admin = cluster.admin(await cluster.ownerOf(topicKeys(prefix, 'room').channel))
    const { acked } = await publishUntil([publishing], 'room', (acked) => {
      // Both instances' subscribers to this master: `listening` must catch up each time.
      if (acked.length % 100 === 50) admin.client('KILL', 'TYPE', 'pubsub').catch(() => {})
      return acked.length >= 400
    })
    await recorder.untilOffset(400)
    t.equal(new Set(acked.map((event) => event.epoch)).size, 1)
    t.same(recorder.offsets, range(1, 400), 'every offset exactly once, in order')
  })

  t.test('redis cluster: a shard subscriber whose path goes silent is noticed by its heartbeat; nothing is lost', async (t) => {
    // Every node behind a proxy of its own (natMap): the broker's connections to it can be frozen.
    const proxies = await Promise.all(cluster.nodes.map(({ port }) => TcpProxy.start({ host: '127.0.0.1', port })))
    t.teardown(() => Promise.all(proxies.map((proxy) => proxy.close())))
    const natMap = Object.fromEntries(cluster.nodes.map(({ port }, i) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: Number(new URL(proxies[i].url).port) }]))
    const { prefix, make } = clusterFixture(t, cluster)
    const behind = make({ client: userCluster(t, cluster, { natMap }) }, { heartbeatInterval: 50, commandTimeout: 200 })
    const direct = make()
    const recorder = new Recorder()
    await behind.listen('room', recorder)
    await direct.publish('room', { data: '1' })
    await recorder.untilOffset(1)

    const ownerPort = await cluster.ownerOf(topicKeys(prefix, 'room').channel)
    const owner = cluster.nodes.findIndex(({ port }) => port === ownerPort)
    await frozenPathCatchesUp(t, direct, recorder, () => proxies[owner].freeze('sse-subscriber'), 'the subscriber connection to the topic\'s master froze')
  })

  t.test('redis cluster: the master of a topic\'s slot killed (-9) and restarted while events are published: listeners keep what came, then get the new epoch whole', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const [listening, publishing] = [make(), make()]
    const recorder = new Recorder()
    await listening.listen('room', recorder)
    const { channel } = topicKeys(prefix, 'room')
    const owner = await cluster.ownerOf(channel)

    const brokers = [publishing, listening]
    const { acked: first } = await publishUntil(brokers, 'room', (acked) => acked.length >= 50)
    await recorder.untilOffset(50)
    let restarted = false
    const restart = cluster.restart(owner).then(() => { restarted = true })
    const { acked: then, failed } = await publishUntil(brokers, 'room', (acked) =>
      restarted && acked.filter((event) => event.epoch !== first[0].epoch).length >= 50)
    await restart
    const acked = [...first, ...then]
    const [before, after] = [acked[0].epoch, acked.at(-1)!.epoch]
    t.not(after, before, 'the restarted master lost the topic: a new epoch')
    t.ok(failed > 0, `publishes failed while it was down (${failed})`)
    const renewed = acked.filter((event) => event.epoch === after)
    t.same(renewed.map((event) => event.offset), range(1, renewed.length), 'the new epoch counts from 1')

    await recorder.until(() => recorder.events.some((event) => event.epoch === after && event.offset === renewed.length), 'the new epoch')
    const old = recorder.events.filter((event) => event.epoch === before)
    t.ok(old.length >= 50, 'what was delivered before the kill stays delivered')
    t.same(old.map((event) => event.offset), range(1, old.length), 'the old epoch: contiguous, once each')
    t.same(recorder.events.slice(old.length).map((event) => [event.epoch, event.offset]), renewed.map((event) => [after, event.offset]),
      'then every event of the new epoch, once, in order, nothing else')
    t.same(await shardChannels(cluster, owner, channel), [channel], 'subscribed again on the restarted master')
  })
})
