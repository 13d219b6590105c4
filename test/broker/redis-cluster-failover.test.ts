import t from 'tap'
import { topicKeys } from '../../lib/redis/keys.js'
import { type LocalCluster, whenCluster } from '../helpers/redis-cluster.js'
import { Recorder, range } from './recorder.js'
import { clusterFixture, publishUntil, shardChannels, until } from './redis-cluster-fixture.js'

// A failover without loss on a real cluster: 3 masters, a replica added to the master of the topic's
// slot, then `CLUSTER FAILOVER` on it while events are published. A file of its own: the other
// cluster files need no replica, and this one runs beside them.

async function subscriberConnections (cluster: LocalCluster, port: number): Promise<number> {
  const list = await cluster.admin(port).client('LIST') as string
  return list.split('\n').filter((line) => / name=\S*sse-subscriber /.test(line)).length
}

await whenCluster(t, (cluster) => {
  t.test('redis cluster: a replica takes over its master (CLUSTER FAILOVER) while events are published: one epoch, every offset once, in order; the channel moves to it', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const { channel } = topicKeys(prefix, 'room')
    const master = await cluster.ownerOf(channel)
    const replica = await cluster.addReplica(master)
    const brokers = [make(), make()]
    const recorders = [new Recorder(), new Recorder()]
    await Promise.all(brokers.map((broker, i) => broker.listen('room', recorders[i])))

    let failover: Promise<void> | undefined
    let done = false
    const { acked } = await publishUntil(brokers, 'room', (acked) => {
      if (acked.length === 100) failover ??= cluster.failover(replica).then(() => { done = true })
      return done && acked.length >= 300
    })
    await failover
    t.equal(await cluster.ownerOf(channel), replica, 'the replica is the master now')
    t.equal(new Set(acked.map((event) => event.epoch)).size, 1, 'one epoch: the replica had every write')
    // A publish that timed out during the hand-over may still have run: the head says what there is.
    const { head } = await brokers[0].read('room')
    t.ok(acked.every((event) => event.offset <= head))
    for (const recorder of recorders) {
      await recorder.untilOffset(head)
      t.same(recorder.offsets, range(1, head), 'every offset exactly once, in order')
    }
    await until('the channel on the new master', async () => (await shardChannels(cluster, replica, channel)).length === 1)
    await until('no subscriber left on the old master', async () => await subscriberConnections(cluster, master) === 0)
    t.same(await shardChannels(cluster, master, channel), [], 'the old master, a replica now, carries nothing')
    const after = await brokers[1].publish('room', { data: 'after' })
    for (const recorder of recorders) await recorder.untilOffset(after.offset)
    t.pass('live delivery goes on from the new master')
  })
})
