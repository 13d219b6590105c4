import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { InvalidOptionError, RedisKeyPrefixError } from '../errors.js'

/** Where the broker connects: exactly one of these keys. */
export type RedisSource =
  | {
    /** A single Redis: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
    url: string
  }
  | {
    /**
     * A client whose options (address, password, TLS, name...) the broker's own connections copy; the
     * broker never uses or quits it. A `Cluster` (ioredis) puts the broker on that cluster.
     */
    client: Redis | Cluster
  }
  | {
    /**
     * The startup nodes of a Redis Cluster (>= 7: sharded Pub/Sub), as ioredis takes them (`{ host,
     * port }`, `'host:port'` or a port); any reachable node is enough, the others are found. For a
     * password or TLS, pass a `Cluster` made with them as `client` instead.
     */
    cluster: ClusterNode[]
  }

/** The keys of a RedisSource, which may also hold the broker's options. */
export const SOURCE_KEYS = ['url', 'client', 'cluster'] as const

/** The broker's own connections: it quits them on close, never the client it was given. */
export interface BrokerConnections {
  /** Runs the scripts: one Redis, or a Cluster that sends each to its topic's slot (following MOVED and ASK). */
  commands: Redis | Cluster
  /** True on a cluster: sharded Pub/Sub, one subscriber connection per master. */
  cluster: boolean
  /** Opens a subscriber connection: to the same Redis, or to the cluster node `host:port`. */
  openSubscriber: (node?: string) => Redis
}

/** Whatever the user's client does, the broker's connections fail fast instead of queueing. */
const FAIL_FAST: Partial<RedisOptions> = {
  lazyConnect: false,
  // A call made while the connection is down rejects at once...
  enableOfflineQueue: false,
  // ...so do the commands in flight when it drops...
  maxRetriesPerRequest: 0,
  // ...and they are never sent again (a publish could run twice).
  autoResendUnfulfilledCommands: false,
  // The broker subscribes again itself, then catches up.
  autoResubscribe: false
}

/**
 * The same on a cluster, whose own retries would otherwise send a command again. Its offline queue
 * stays on: without it ioredis refuses a command for a node whose connection is still opening (and
 * its own ready check); the broker refuses calls itself while the cluster is not ready.
 */
const CLUSTER_FAIL_FAST: Partial<ClusterOptions> = {
  lazyConnect: false,
  enableOfflineQueue: true,
  // A script whose node connection closed under it may have run: it is not sent again elsewhere.
  retryDelayOnFailover: 0,
  // A cluster that is down refuses at once, as a single Redis that is down does.
  retryDelayOnClusterDown: 0,
  // The broker opens its own shard subscribers (see shards.ts); ioredis's would be unused connections.
  shardedSubscribers: false,
  // The scripts write: always on the master.
  scaleReads: 'master'
}

export function openConnections (source: RedisSource, commandTimeout: number): BrokerConnections {
  const { url, client, cluster } = source as { url?: string, client?: Redis | Cluster, cluster?: ClusterNode[] }
  if (cluster !== undefined || isCluster(client)) return openCluster(client as Cluster | undefined, cluster, commandTimeout)
  const redis = client as Redis | undefined
  const name = redis?.options.connectionName
  const open = (role: string): Redis => {
    const options = { ...FAIL_FAST, commandTimeout, connectionName: roleName(name, role) }
    return quiet(redis !== undefined ? redis.duplicate(options) : new Redis(url!, options))
  }
  return { commands: open('sse-commands'), cluster: false, openSubscriber: () => open('sse-subscriber') }
}

function openCluster (client: Cluster | undefined, nodes: ClusterNode[] | undefined, commandTimeout: number): BrokerConnections {
  const base = client?.options.redisOptions ?? {}
  const name = base.connectionName
  const redisOptions = { ...base, ...FAIL_FAST, commandTimeout, connectionName: roleName(name, 'sse-commands') }
  const options = { ...CLUSTER_FAIL_FAST, redisOptions }
  const commands = client !== undefined ? client.duplicate([], options) : new Cluster(nodes!, options)
  commands.on('error', () => {})
  const openSubscriber = (node = ''): Redis => {
    const colon = node.lastIndexOf(':')
    const address = { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) }
    return quiet(new Redis({ ...base, ...address, ...FAIL_FAST, commandTimeout, connectionName: roleName(name, 'sse-subscriber') }))
  }
  return { commands, cluster: true, openSubscriber }
}

function roleName (name: string | undefined, role: string): string {
  return name === undefined ? role : `${name}:${role}`
}

/** Failures surface as rejected calls and reconnects; unhandled, ioredis would print each one. */
function quiet (redis: Redis): Redis {
  redis.on('error', () => {})
  return redis
}

function isCluster (client: unknown): client is Cluster {
  return (client as Cluster | undefined)?.isCluster === true
}

export function checkSource (source: RedisSource): void {
  const given = SOURCE_KEYS.filter((key) => (source as Record<string, unknown> | undefined)?.[key] !== undefined)
  if (given.length !== 1) throw new InvalidOptionError(given[1] ?? 'url', 'redisBroker takes one of { url }, { client } or { cluster }')
  const { url, client, cluster } = source as { url?: unknown, client?: Redis | Cluster, cluster?: unknown }
  if (client !== undefined) {
    // ioredis prefixes keys with `keyPrefix` but not Pub/Sub channels: the broker's own `prefix` does both.
    const options = client.options as RedisOptions & ClusterOptions
    if (options.keyPrefix || options.redisOptions?.keyPrefix) throw new RedisKeyPrefixError()
    return
  }
  if (cluster !== undefined) {
    if (!Array.isArray(cluster) || cluster.length === 0) throw new InvalidOptionError('cluster', 'a non-empty array of startup nodes')
    return
  }
  if (typeof url !== 'string') throw new InvalidOptionError('url', 'redisBroker takes one of { url }, { client } or { cluster }')
}

const SETTLED = ['ready', 'error', 'close', 'end'] as const

/**
 * Resolves once a connection's first attempt is over, whatever its outcome: calls made at start-up
 * wait for it; afterwards, while the connection is down, they fail at once.
 */
export function firstAttempt (redis: Redis | Cluster): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const settled = (): void => {
      for (const event of SETTLED) redis.off(event, settled)
      resolve()
    }
    for (const event of SETTLED) redis.on(event, settled)
  })
}

/** Closes a connection the broker opened: politely when it is up, at once otherwise. */
export async function closeConnection (redis: Redis | Cluster): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // It dropped meanwhile: disconnect below.
    }
  }
  redis.disconnect()
}
