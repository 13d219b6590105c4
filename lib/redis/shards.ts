import type { Cluster, Redis } from 'ioredis'
import type { TopicFeed } from './feed.js'
import { slotOf } from './keys.js'
import { Subscriber, type Subscriptions } from './subscriber.js'

export interface ShardSettings {
  /** Opens a subscriber connection to the master `host:port`. */
  open: (node: string) => Redis
  /** ms between PINGs on each shard connection (0: none). */
  heartbeatInterval: number
  /** ms before a failed catch-up is tried again. */
  retryDelay: number
}

/** Where a listened topic's channel is subscribed: its slot, and the master (`host:port`) it is on now. */
interface Home {
  slot: number
  node: string
}

// ioredis reads the `sunsubscribe` that the old owner of a moved slot pushes as a reply to nothing: it
// reports it as this error (when no command was waiting), naming the channel.
const SERVER_UNSUBSCRIBE = /^Command queue state error\b.*Last reply: sunsubscribe,(.*),\d+$/s
const QUEUE_ERROR = /^Command queue state error\b/

/**
 * Sharded Pub/Sub on a cluster: a publish reaches the subscribers of its slot's master only, so the
 * broker holds one subscriber connection per master that carries a listened topic, and subscribes
 * each channel on the master of its slot. The connections are the broker's own rather than ioredis's
 * `shardedSubscribers`: a catch-up needs to know when a channel's SSUBSCRIBE is in effect (ioredis
 * resubscribes without telling), and each connection gets the heartbeat.
 *
 * A topic moves with its slot (resharding, a failover): when the slot map changes (ioredis refreshes it
 * on MOVED, periodically, and after a shard reconnects), or the old owner says it dropped the channel,
 * the channel is subscribed on the new master, then the feed syncs from the stream.
 */
export class ShardedSubscribers implements Subscriptions {
  readonly #cluster: Cluster
  readonly #settings: ShardSettings
  /** The subscriber connections, by master (`host:port`). */
  readonly #shards = new Map<string, Subscriber>()
  /** Every listened topic, and where its channel is subscribed. */
  readonly #homes = new Map<TopicFeed, Home>()
  #closed = false

  constructor (cluster: Cluster, settings: ShardSettings) {
    this.#cluster = cluster
    this.#settings = settings
    cluster.on('refresh', () => this.#rehome())
  }

  async add (feed: TopicFeed): Promise<void> {
    const home: Home = { slot: slotOf(feed.channel), node: '' }
    this.#homes.set(feed, home)
    const tried = this.#ownerOf(home.slot)
    try {
      await this.#place(feed, home)
    } catch (error) {
      // The slot map may be stale (the slot just moved): refresh it, and try the master it names, once.
      await this.#refresh().catch(() => {})
      if (this.#homes.get(feed) !== home || this.#ownerOf(home.slot) === tried) throw error
      await this.#place(feed, home)
    }
  }

  remove (feed: TopicFeed): void {
    const home = this.#homes.get(feed)
    if (home === undefined) return
    this.#homes.delete(feed)
    this.#shards.get(home.node)?.remove(feed)
  }

  syncFailed (feed: TopicFeed): void {
    const home = this.#homes.get(feed)
    if (home !== undefined) this.#shards.get(home.node)?.syncFailed()
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#homes.clear()
    const shards = [...this.#shards.values()]
    this.#shards.clear()
    await Promise.all(shards.map((shard) => shard.close()))
  }

  /** Subscribes the feed on the master that owns its slot now. */
  #place (feed: TopicFeed, home: Home): Promise<void> {
    const owner = this.#ownerOf(home.slot)
    if (owner === undefined) return Promise.reject(new Error(`no master is known for slot ${home.slot}`))
    if (home.node !== owner) {
      this.#shards.get(home.node)?.remove(feed)
      home.node = owner
    }
    return this.#shard(owner).add(feed)
  }

  /** Moves the feed to its slot's owner, then syncs it: what was published meanwhile comes from the stream. */
  #move (feed: TopicFeed, home: Home): void {
    this.#place(feed, home).then(() => feed.sync()).then(undefined, () => this.#shards.get(home.node)?.syncFailed())
  }

  /** After a slot map refresh: every topic whose slot changed master moves; masters that left are closed. */
  #rehome (): void {
    if (this.#closed) return
    for (const [feed, home] of this.#homes) {
      const owner = this.#ownerOf(home.slot)
      if (owner !== undefined && owner !== home.node) this.#move(feed, home)
    }
    const masters = new Set(this.#cluster.slots.map((nodes) => nodes?.[0]))
    for (const [node, shard] of this.#shards) {
      if (shard.feeds.size > 0 || masters.has(node)) continue
      this.#shards.delete(node)
      shard.close().catch(() => {})
    }
  }

  #shard (node: string): Subscriber {
    let shard = this.#shards.get(node)
    if (shard === undefined) {
      const redis = this.#settings.open(node)
      redis.on('error', (error: Error) => this.#confused(node, error))
      // An SSUBSCRIBE answered MOVED: ioredis emits this, and the command times out.
      redis.on('moved', () => this.#cluster.refreshSlotsCache())
      const { heartbeatInterval, retryDelay } = this.#settings
      shard = new Subscriber(redis, { sharded: true, heartbeatInterval, retryDelay, beforeCatchUp: () => this.#refresh() })
      this.#shards.set(node, shard)
    }
    return shard
  }

  /** A shard connection got a reply that no command was waiting for. */
  #confused (node: string, error: Error): void {
    const shard = this.#shards.get(node)
    if (shard === undefined || !QUEUE_ERROR.test(error.message)) return
    const channel = SERVER_UNSUBSCRIBE.exec(error.message)?.[1]
    if (channel === undefined) {
      // The real reply of a command that took a pushed message for its own: start the connection over.
      shard.redis.disconnect(true)
      return
    }
    // A channel it no longer carries: the reply of an unsubscribe that a push answered first.
    const feed = shard.feeds.get(channel)
    const home = feed === undefined ? undefined : this.#homes.get(feed)
    if (feed === undefined || home === undefined) return
    // Its slot moved. A keyed command on the slot reaches the old owner, whose MOVED corrects the map.
    this.#cluster.exists(channel).catch(() => {}).finally(() => {
      if (this.#homes.get(feed) === home) this.#move(feed, home)
    })
  }

  #ownerOf (slot: number): string | undefined {
    return this.#cluster.slots[slot]?.[0]
  }

  #refresh (): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#cluster.refreshSlotsCache((error) => error ? reject(error) : resolve())
    })
  }
}
