import { Cluster, type ClusterOptions } from 'ioredis'
import type { Test } from 'tap'
import type { Broker, BrokerEvent } from '../../lib/broker/types.js'
import { redisBroker, type RedisBrokerOptions, type RedisSource } from '../../lib/redis/index.js'
import { topicKeys } from '../../lib/redis/keys.js'
import type { LocalCluster } from '../helpers/redis-cluster.js'
import { newPrefix } from './redis-fixture.js'

// What the Redis Cluster tests share: brokers on a fresh prefix, closed and their keys removed at the end.

/** Removes every key under `prefix` from every master (one UNLINK per key: keys of several slots). */
export async function removeClusterKeys (cluster: LocalCluster, prefix: string): Promise<void> {
  await Promise.all(cluster.nodes.map(async ({ port }) => {
    const admin = cluster.admin(port)
    if ((await admin.role())[0] !== 'master') return
    const keys = await admin.keys(`${prefix}*`)
    await Promise.all(keys.map((key) => admin.unlink(key)))
  }))
}

/** A user's own Cluster client, disconnected when the test ends. */
export function userCluster (t: Test, cluster: LocalCluster, options: ClusterOptions = {}): Cluster {
  const client = new Cluster(cluster.startupNodes, { lazyConnect: true, ...options })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  return client
}

/** A fresh key prefix per test; `make` opens brokers on the cluster (`{ cluster: nodes }` unless told). */
export function clusterFixture (t: Test, cluster: LocalCluster, options: RedisBrokerOptions = {}): {
  prefix: string
  make: (source?: RedisSource, extra?: RedisBrokerOptions) => Broker
} {
  const prefix = newPrefix()
  const brokers: Broker[] = []
  t.teardown(async () => {
    await Promise.all(brokers.map((broker) => broker.close()))
    await removeClusterKeys(cluster, prefix)
  })
  const make = (source: RedisSource = { cluster: cluster.startupNodes }, extra: RedisBrokerOptions = {}): Broker => {
    const broker = redisBroker(source, { prefix, ...options, ...extra })
    brokers.push(broker)
    return broker
  }
  return { prefix, make }
}

/** Topic names whose channels land on each master in turn: `count` per master, by master port. */
export async function topicsByMaster (cluster: LocalCluster, prefix: string, count = 1): Promise<Map<number, string[]>> {
  const masters = []
  for (const { port } of cluster.nodes) if ((await cluster.admin(port).role())[0] === 'master') masters.push(port)
  const byMaster = new Map<number, string[]>(masters.map((port) => [port, []]))
  for (let i = 0; [...byMaster.values()].some((topics) => topics.length < count); i++) {
    const topic = `topic-${i}`
    const topics = byMaster.get(await cluster.ownerOf(topicKeys(prefix, topic).channel))!
    if (topics.length < count) topics.push(topic)
  }
  return byMaster
}

/** Polls `check` until it holds; only a guard against hanging, nothing is timed. */
export async function until (what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !await check(); i++) {
    if (i === 300) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function shardChannels (cluster: LocalCluster, port: number, channel: string): Promise<string[]> {
  return await cluster.admin(port).pubsub('SHARDCHANNELS', channel) as string[]
}

/** Publishes until `stop` says so, taking turns between brokers; failed publishes are counted, not retried. */
export async function publishUntil (brokers: Broker[], topic: string, stop: (acked: BrokerEvent[]) => boolean): Promise<{ acked: BrokerEvent[], failed: number }> {
  const acked: BrokerEvent[] = []
  let failed = 0
  for (let n = 1; !stop(acked); n++) {
    try {
      acked.push(await brokers[n % brokers.length].publish(topic, { data: String(n) }))
    } catch {
      failed++
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return { acked, failed }
}
