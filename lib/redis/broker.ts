import { newEpoch } from '../broker/epoch.js'
import type { Broker, BrokerEvent, EventPayload, ReadResult, TopicListener, TopicPosition } from '../broker/types.js'
import { canResume, validateLimit } from '../broker/validate.js'
import { BrokerClosedError, BrokerUnavailableError, PublishFailedError, TopicClosedError } from '../errors.js'
import { encodePayload } from './codec.js'
import { type BrokerConnections, checkSource, closeConnection, firstAttempt, openConnections, type RedisSource } from './connections.js'
import { type FeedSource, TopicFeed, type TopicSnapshot } from './feed.js'
import { startHeartbeat } from './heartbeat.js'
import { type TopicKeys, topicKeys } from './keys.js'
import { startLifecycle } from './lifecycle.js'
import { type RedisBrokerOptions, resolveOptions } from './options.js'
import { CLOSE, LuaScript, PUBLISH, READ, toSnapshot } from './scripts.js'

const publishScript = new LuaScript(PUBLISH)
const readScript = new LuaScript(READ)
const closeScript = new LuaScript(CLOSE)

/** ms between tries when a catch-up fails while the subscriber connection is up. */
const CATCH_UP_RETRY_DELAY = 1000

/**
 * A broker shared by every instance that uses the same Redis and prefix: a Redis Stream per topic for
 * the history, Pub/Sub (one channel per topic) for live delivery, both written by one Lua script.
 * Its options may stand beside the connection (`{ url, prefix }`) or in `options`.
 */
export function redisBroker (source: RedisSource & RedisBrokerOptions, options?: RedisBrokerOptions): Broker {
  checkSource(source)
  const settings = resolveOptions(source, options)
  return new RedisBroker(openConnections(source, settings.commandTimeout), settings)
}

class RedisBroker implements Broker {
  readonly #redis: BrokerConnections
  readonly #settings: Required<RedisBrokerOptions>
  /** The listened topics, by channel. */
  readonly #feeds = new Map<string, TopicFeed>()
  readonly #started: Promise<unknown>
  readonly #lifecycle: ReturnType<typeof startLifecycle>
  readonly #stopHeartbeat: () => void
  #closed = false

  constructor (redis: BrokerConnections, settings: Required<RedisBrokerOptions>) {
    this.#redis = redis
    this.#settings = settings
    this.#started = Promise.all([firstAttempt(redis.commands), firstAttempt(redis.subscriber)])
    this.#lifecycle = startLifecycle({ catchUp: () => this.#catchUp(), retryDelay: CATCH_UP_RETRY_DELAY })
    redis.subscriber.on('ready', () => this.#signal('READY'))
    redis.subscriber.on('close', () => this.#signal('DOWN'))
    redis.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.#feeds.get(channel.toString())?.receive(message)
    })
    // Only the subscriber needs one: a dead command connection shows in its calls timing out.
    this.#stopHeartbeat = startHeartbeat(redis.subscriber, settings.heartbeatInterval)
  }

  async publish (topic: string, payload: EventPayload): Promise<BrokerEvent> {
    const { keys, channel } = await this.#ready(topic)
    const { topicTtl, retention } = this.#settings
    let reply
    try {
      reply = await publishScript.run(this.#redis.commands, keys, [newEpoch(), topicTtl, retention, channel, encodePayload(payload)])
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
    await unavailableOnFailure(closeScript.run(this.#redis.commands, keys, [this.#settings.tombstoneTtl, channel, payload]))
  }

  async reopenTopic (topic: string): Promise<void> {
    const { keys } = await this.#ready(topic)
    // The topic's keys share one slot: one DEL. Its next publish makes a new epoch.
    await unavailableOnFailure(this.#redis.commands.del(...keys))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#signal('CLOSE')
    this.#closed = true
    this.#stopHeartbeat()
    this.#feeds.clear()
    await Promise.all([closeConnection(this.#redis.commands), closeConnection(this.#redis.subscriber)])
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
    return toSnapshot(topic, await unavailableOnFailure(readScript.run(this.#redis.commands, keys, args)))
  }

  #openFeed (topic: string, channel: string): TopicFeed {
    const source: FeedSource = {
      subscribe: () => unavailableOnFailure(this.#redis.subscriber.subscribe(channel)),
      read: (after) => this.#snapshot(topic, after),
      syncFailed: () => this.#signal('SYNC_FAILED'),
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
    // Down or closing: the subscription goes with the connection anyway.
    this.#redis.subscriber.unsubscribe(feed.channel).catch(() => {})
  }

  /** After a (re)connection: subscribe every listened topic again, then bring each up to date. */
  async #catchUp (): Promise<void> {
    const feeds = [...this.#feeds.values()]
    if (feeds.length === 0) return
    await this.#redis.subscriber.subscribe(...feeds.map((feed) => feed.channel))
    await Promise.all(feeds.map((feed) => feed.sync()))
  }

  #signal (type: 'READY' | 'DOWN' | 'SYNC_FAILED' | 'CLOSE'): void {
    if (!this.#closed) this.#lifecycle.send({ type })
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
