import t from 'tap'
import { Cluster } from 'ioredis'
import { redisBroker } from '../../lib/redis/index.js'
import { slotOf, topicKeys } from '../../lib/redis/keys.js'
import { type LocalCluster, whenCluster } from '../helpers/redis-cluster.js'
import { brokerContract } from './contract.js'
import { Recorder } from './recorder.js'
import { clusterFixture, removeClusterKeys, topicsByMaster, userCluster } from './redis-cluster-fixture.js'
import { newPrefix } from './redis-fixture.js'
import { freePort as closedPort } from '../helpers/free-port.js'
import { eventually } from '../helpers/stream.js'

// The broker contract on a real 3-master Redis Cluster that this file starts (one instance made from
// the startup nodes, the other from a user's Cluster client), then what is particular to a cluster.

/** The names of the clients connected to a node, one entry per connection. */
async function clientNames (cluster: LocalCluster, port: number): Promise<string[]> {
  const list = await cluster.admin(port).client('LIST') as string
  return list.split('\n').map((line) => / name=(\S*)/.exec(line)?.[1] ?? '').filter((name) => name !== '')
}

await whenCluster(t, (cluster) => {
  brokerContract(t, 'redis cluster', async () => {
    const prefix = newPrefix()
    const client = userCluster(t, cluster)
    const broker = redisBroker({ cluster: cluster.startupNodes }, { prefix, retention: 500 })
    const other = redisBroker({ client, prefix, retention: 500 })
    return {
      broker,
      other,
      history: 500,
      async cleanup () {
        await Promise.all([broker.close(), other.close()])
        client.disconnect()
        await removeClusterKeys(cluster, prefix)
      }
    }
  })

  t.test('redis cluster: slotOf() is the server\'s CLUSTER KEYSLOT', async (t) => {
    const admin = cluster.admin(cluster.nodes[0].port)
    const keys = ['room', '{room}:events', 'sse:{a%3A%7Bb%7D}:meta', 'x{}y', '{}{tag}', 'a{b', '}{c}', 'ünï{cödé}🎉', '', 'foo{bar}{zap}']
    for (const key of keys) t.equal(slotOf(key), await admin.cluster('KEYSLOT', key), JSON.stringify(key))
    const { keys: names, channel } = topicKeys('sse:', 'a:{b} c')
    t.same(new Set([...names, channel].map(slotOf)).size, 1, 'a topic\'s keys and channel share one slot')
  })

  t.test('redis cluster: each listened topic is a shard channel on the master of its slot, only there; no classic channel', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    // Names of their own: connections of the tests before may still be closing.
    const name = `shards-${prefix.slice(9, 17)}`
    const [a, b] = [make({ client: userCluster(t, cluster, { redisOptions: { connectionName: name } }) }), make({ client: userCluster(t, cluster, { redisOptions: { connectionName: name } }) })]
    const byMaster = await topicsByMaster(cluster, prefix, 2)
    const topics = [...byMaster.values()].flat()
    const recorders = new Map(topics.map((topic) => [topic, [new Recorder(), new Recorder()]]))
    for (const topic of topics) {
      await a.listen(topic, recorders.get(topic)![0])
      await b.listen(topic, recorders.get(topic)![1])
    }
    for (const [port, owned] of byMaster) {
      const admin = cluster.admin(port)
      const expected = owned.map((topic) => topicKeys(prefix, topic).channel).sort()
      t.same((await admin.pubsub('SHARDCHANNELS', `${prefix}*`) as string[]).sort(), expected, `master ${port}: the channels of its topics`)
      t.same(await admin.pubsub('CHANNELS', `${prefix}*`), [], `master ${port}: no classic channel`)
      const counts = await admin.pubsub('SHARDNUMSUB', ...expected) as Array<string | number>
      t.same(counts.filter((_, i) => i % 2 === 1), expected.map(() => 2), 'both instances subscribed')
      t.equal((await clientNames(cluster, port)).filter((client) => client === `${name}:sse-subscriber`).length, 2, 'one subscriber connection per instance')
    }
    for (const [i, topic] of topics.entries()) await (i % 2 === 0 ? a : b).publish(topic, { data: topic })
    for (const topic of topics) {
      for (const recorder of recorders.get(topic)!) {
        await recorder.untilOffset(1)
        t.same(recorder.events.map((event) => event.data), [topic])
      }
    }
  })

  t.test('redis cluster: the last listener leaving unsubscribes the shard channel', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const broker = make()
    const unlisten = await broker.listen('room', new Recorder())
    const { channel } = topicKeys(prefix, 'room')
    const admin = cluster.admin(await cluster.ownerOf(channel))
    t.same(await admin.pubsub('SHARDCHANNELS', channel), [channel])
    unlisten()
    for (let i = 0; i < 100 && (await admin.pubsub('SHARDCHANNELS', channel) as string[]).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.same(await admin.pubsub('SHARDCHANNELS', channel), [], 'gone')
  })

  t.test('redis cluster: the Cluster passed in is a template, never quit; one with a keyPrefix is refused', async (t) => {
    const { prefix, make } = clusterFixture(t, cluster)
    const client = userCluster(t, cluster, { lazyConnect: false })
    const broker = make({ client })
    const recorder = new Recorder()
    await broker.listen('room', recorder)
    await broker.publish('room', { data: 'x' })
    await recorder.untilOffset(1)
    await broker.close()
    // The client connects on its own (the broker only copies its options): on a loaded machine it
    // may still be connecting here. Quit, it would end instead; either settles within the bound.
    await eventually(() => client.status === 'ready' || client.status === 'end', 1000, 10)
    t.equal(client.status, 'ready', 'the broker did not quit it')
    t.equal(await client.exists(topicKeys(prefix, 'room').keys[0]), 1, 'and shares the data')
    for (const options of [{ keyPrefix: 'app:' }, { redisOptions: { keyPrefix: 'app:' } }]) {
      const prefixed = new Cluster(cluster.startupNodes, { lazyConnect: true, ...options })
      t.throws(() => redisBroker({ client: prefixed }), { code: 'SSE_ERR_REDIS_KEY_PREFIX' })
    }
  })

  t.test('redis cluster: the source is one of url, client or cluster; cluster is a non-empty array', async (t) => {
    const code = 'SSE_ERR_INVALID_OPTION'
    t.throws(() => redisBroker({ cluster: [] }), { code })
    t.throws(() => redisBroker({ cluster: 'redis://x' as never }), { code })
    t.throws(() => redisBroker({ cluster: cluster.startupNodes, url: 'redis://x' } as never), { code })
    t.throws(() => redisBroker({ cluster: cluster.startupNodes }, { cluster: [] } as never), { code }, 'not in the options')
  })

  t.test('redis cluster: a cluster that cannot be reached fails fast', async (t) => {
    const { make } = clusterFixture(t, cluster)
    const broker = make({ cluster: [{ host: '127.0.0.1', port: await closedPort() }] })
    await t.rejects(broker.publish('room', { data: 'x' }), { code: 'SSE_ERR_PUBLISH_FAILED' })
    await t.rejects(broker.listen('room', new Recorder()), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
    await t.rejects(broker.read('room'), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
  })
})
