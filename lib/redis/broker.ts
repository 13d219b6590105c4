import type { Cluster, Redis } from 'ioredis'
import { newEpoch } from '../broker/epoch.js'
import type { Broker, BrokerEvent, EventPayload, ReadResult, TopicListener, TopicPosition } from '../broker/types.js'
import { canResume, validateLimit } from '../broker/validate.js'
import { BrokerClosedError, BrokerUnavailableError, PublishFailedError, TopicClosedError } from '../errors.js'
import { encodePayload } from './codec.js'
import { type BrokerConnections, checkSource, closeConnection, firstAttempt, openConnections, type RedisSource } from './connections.js'
import { type FeedSource, TopicFeed, type TopicSnapshot } from './feed.js'
import { type TopicKeys, topicKeys } from './keys.js'
import { type RedisBrokerOptions, resolveOptions } from './options.js'
import { type LuaScript, type Scripts, scriptsFor, toSnapshot } from './scripts.js'
import { ShardedSubscribers } from './shards.js'
import { Subscriber, type Subscriptions } from './subscriber.js'

/** ms between tries when a catch-up fails while the subscriber connection is up. */
const CATCH_UP_RETRY_DELAY = 1000

/**
 * A broker shared by every instance that uses the same Redis and prefix: a Redis Stream per topic for
 * the history, Pub/Sub (one channel per topic) for live delivery, both written by one Lua script.
 * On a cluster (`{ cluster: nodes }` or `{ client: cluster }`) the scripts run in the topic's slot and
 * publish with SPUBLISH, and the broker subscribes each channel on the master of its slot.
 * Its options may stand beside the connection (`{ url, prefix }`) or in `options`.
 */
export function redisBroker (source: RedisSource & RedisBrokerOptions, options?: RedisBrokerOptions): Broker {
  checkSource(source)
  const settings = resolveOptions(source, options)
  return new RedisBroker(openConnections(source, settings.commandTimeout), settings)
}

class RedisBroker implements Broker {
  readonly #commands: Redis | Cluster
  readonly #subscriptions: Subscriptions
  readonly #scripts: Scripts
  readonly #settings: Required<RedisBrokerOptions>
  /** The listened topics, by channel. */
  readonly #feeds = new Map<string, TopicFeed>()
  readonly #started: Promise<unknown>
  #closed = false

  constructor (connections: BrokerConnections, settings: Required<RedisBrokerOptions>) {
    const { commands, cluster, openSubscriber } = connections
    this.#commands = commands
    this.#settings = settings
    this.#scripts = scriptsFor(cluster ? 'SPUBLISH' : 'PUBLISH')
    // Only the subscribers get a heartbeat: a dead command connection shows in its calls timing out.
    const shared = { heartbeatInterval: settings.heartbeatInterval, retryDelay: CATCH_UP_RETRY_DELAY }
    this.#subscriptions = cluster
      ? new ShardedSubscribers(commands as Cluster, { ...shared, open: openSubscriber })
      : new Subscriber(openSubscriber(), { ...shared, sharded: false })
    this.#started = firstAttempt(commands)
  }

  async publish (topic: string, payload: EventPayload): Promise<BrokerEvent> {
    const { keys, channel } = await this.#ready(topic)
    const { topicTtl, retention } = this.#settings
    let reply
    try {
      reply = await this.#run(this.#scripts.publish, keys, [newEpoch(), topicTtl, retention, channel, encodePayload(payload)])
    } catch (error) {
      throw withCause(new PublishFailedError(topic, reasonOf(error)), error)
    }
    if (reply === null) throw new TopicClosedError(topic)
    const [epoch, offset] = reply as [Buffer, number]
    return { topic, epoch: epoch.toString(), offset, event: payload.event, data: payload.data }
  }

  async listen (topic: string, listener: TopicListener): Promise<() => void> {
    const { channel } = await this.#ready(topic)
    const feed = this.#feeds.get(channel) ?? this.#openFeed(topic, channel)
    const { fanout, ready } = feed
    fanout.add(listener)
    try {
      await ready
    } catch (error) {
      this.#drop(feed)
      throw error
    }
    return () => {
      if (fanout.delete(listener) && fanout.size === 0) this.#drop(feed)
    }
  }

  async read (topic: string, after?: TopicPosition, limit?: number): Promise<ReadResult> {
    validateLimit(limit)
    const { epoch, head, events, closed, final } = await this.#snapshot(topic, after, limit)
    const complete = canResume(after, epoch, head, events[0]?.offset ?? head + 1)
    return { epoch, head, events: complete ? events : [], complete, closed, final }
  }

  async closeTopic (topic: string, final?: EventPayload): Promise<void> {
    const { keys, channel } = await this.#ready(topic)
    const payload = final === undefined ? '' : encodePayload(final)
    await unavailableOnFailure(this.#run(this.#scripts.close, keys, [this.#settings.tombstoneTtl, channel, payload]))
  }

  async reopenTopic (topic: string): Promise<void> {
    const { keys } = await this.#ready(topic)
    // The topic's keys share one slot: one DEL. Its next publish makes a new epoch.
    await unavailableOnFailure(this.#whenUp().then(() => this.#commands.del(...keys)))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#feeds.clear()
    await Promise.all([this.#subscriptions.close(), closeConnection(this.#commands)])
  }

  /** The topic's names, once the connections had their first try. */
  async #ready (topic: string): Promise<TopicKeys> {
    this.#assertOpen()
    const names = topicKeys(this.#settings.prefix, topic)
    await this.#started
    this.#assertOpen()
    return names
  }

  #assertOpen (): void {
    if (this.#closed) throw new BrokerClosedError()
  }

  async #snapshot (topic: string, after: TopicPosition | undefined, limit?: number): Promise<TopicSnapshot> {
    const { keys } = await this.#ready(topic)
    const args = [after?.epoch ?? '', after?.offset ?? 0, limit ?? 0]
    return toSnapshot(topic, await unavailableOnFailure(this.#run(this.#scripts.read, keys, args)))
  }

  #run (script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.#whenUp().then(() => script.run(this.#commands, keys, args))
  }

  /** A cluster queues calls while it is down (see connections.ts): the broker fails them fast instead. */
  async #whenUp (): Promise<void> {
    if (this.#commands.status !== 'ready' && (this.#commands as Cluster).isCluster) throw new Error(`the cluster is ${this.#commands.status}`)
  }

  #openFeed (topic: string, channel: string): TopicFeed {
    const source: FeedSource = {
      subscribe: (feed) => unavailableOnFailure(this.#subscriptions.add(feed)),
      read: (after) => this.#snapshot(topic, after),
      syncFailed: () => this.#subscriptions.syncFailed(feed),
      closed: () => this.#drop(feed)
    }
    const feed = new TopicFeed(topic, channel, source, this.#settings.retention)
    this.#feeds.set(channel, feed)
    return feed
  }

  /** Forgets a feed whose listeners all left, whose topic closed or which could not start. */
  #drop (feed: TopicFeed): void {
    if (this.#feeds.get(feed.channel) !== feed) return
    this.#feeds.delete(feed.channel)
    this.#subscriptions.remove(feed)
  }
}

async function unavailableOnFailure<T> (call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (error) {
    throw withCause(new BrokerUnavailableError(reasonOf(error)), error)
  }
}

function reasonOf (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function withCause<E extends Error> (error: E, cause: unknown): E {
  return Object.assign(error, { cause })
}
