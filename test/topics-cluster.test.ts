import t from 'tap'
import { redisBroker, type RedisBrokerOptions } from '../lib/redis/index.js'
import { removeClusterKeys } from './broker/redis-cluster-fixture.js'
import { newPrefix } from './broker/redis-fixture.js'
import { hardeningSuite } from './helpers/hardening-suite.js'
import { type LocalCluster, whenCluster } from './helpers/redis-cluster.js'
import { skipping } from './helpers/skip-tests.js'
import { topicsSuite, type BrokerFactory } from './helpers/topics-suite.js'

// The plugin's topics and hardening suites, the very tests the memory broker and a single Redis pass,
// on a 3-master Redis Cluster started by this file: one fresh prefix per test. One test is left out:
// the wide fan-out to 1,000 sockets measures the plugin's per-socket backpressure (10-30 s here),
// and its broker side, one shard channel, is what every other test of the suite already does.
const WIDE = '1,000 subscribers on one topic with one that never reads: it alone is cut, the others get every event'

function onCluster (cluster: LocalCluster, options: RedisBrokerOptions = {}): BrokerFactory {
  return async () => {
    const prefix = newPrefix()
    const broker = redisBroker({ cluster: cluster.startupNodes, prefix, ...options })
    return {
      broker,
      async cleanup () {
        await broker.close()
        await removeClusterKeys(cluster, prefix)
      }
    }
  }
}

await whenCluster(t, (cluster) => {
  t.test('the topics suite on a Redis Cluster', async (t) => {
    topicsSuite(skipping(t, { [WIDE]: 'runs on memory and on a single Redis (topics-memory, topics-redis)' }), onCluster(cluster))
  })
  t.test('the hardening suite on a Redis Cluster (retention 5000)', async (t) => {
    hardeningSuite(t, onCluster(cluster, { retention: 5000 }))
  })
})
