import type { Redis } from 'ioredis'
import { closeConnection, firstAttempt } from './connections.js'
import type { TopicFeed } from './feed.js'
import { watchWithPings } from './ping-watch.js'
import { type LifecycleEvent, startLifecycle } from './lifecycle.js'

/** How the broker keeps its listened topics subscribed: one connection (a single Redis) or one per master (a cluster). */
export interface Subscriptions {
  /** Subscribes the feed's channel; resolves once the subscription is in effect on the server. */
  add (feed: TopicFeed): Promise<void>
  /** Forgets the feed and unsubscribes its channel (best effort: a connection that is down holds none). */
  remove (feed: TopicFeed): void
  /** A sync the feed started failed: it is caught up again later, with the other feeds of its connection. */
  syncFailed (feed: TopicFeed): void
  close (): Promise<void>
}

export interface SubscriberSettings {
  /** SSUBSCRIBE and `smessageBuffer` (a cluster shard) rather than SUBSCRIBE and `messageBuffer`. */
  sharded: boolean
  /** ms between PINGs on the connection (0: none); see heartbeat.ts. */
  heartbeatInterval: number
  /** ms before a failed catch-up is tried again. */
  retryDelay: number
  /** Runs before each catch-up after a reconnect (a shard refreshes the slot map: topics that moved go first). */
  beforeCatchUp?: () => Promise<void>
}

/**
 * One connection in subscriber mode and the feeds whose channel it carries. Each time it comes up
 * again, it subscribes all their channels, then brings each feed up to date from its stream (the
 * lifecycle in lifecycle.ts), so nothing published while it was away is lost.
 */
export class Subscriber implements Subscriptions {
  /** The feeds whose channel this connection carries, by channel. */
  readonly feeds = new Map<string, TopicFeed>()
  readonly #redis: Redis
  readonly #settings: SubscriberSettings
  readonly #started: Promise<void>
  readonly #lifecycle: ReturnType<typeof startLifecycle>
  readonly #stopPings: () => void
  #readyBefore = false
  #closed = false

  constructor (redis: Redis, settings: SubscriberSettings) {
    this.#redis = redis
    this.#settings = settings
    this.#started = firstAttempt(redis)
    this.#lifecycle = startLifecycle({ catchUp: () => this.#catchUp(), retryDelay: settings.retryDelay })
    redis.on('ready', () => this.#signal('ready'))
    redis.on('close', () => this.#signal('down'))
    redis.on(settings.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => {
      this.feeds.get(channel.toString())?.receive(message)
    })
    this.#stopPings = watchWithPings(redis, settings.heartbeatInterval)
  }

  get redis (): Redis {
    return this.#redis
  }

  /** Subscribes now; on failure the feed stays registered, for the next catch-up (the caller may remove it). */
  async add (feed: TopicFeed): Promise<void> {
    this.feeds.set(feed.channel, feed)
    await this.#started
    await this.#subscribe([feed.channel])
  }

  remove (feed: TopicFeed): void {
    if (this.feeds.get(feed.channel) !== feed) return
    this.feeds.delete(feed.channel)
    // Down or closing: the subscription goes with the connection anyway.
    const redis = this.#redis
    const left = this.#settings.sharded ? redis.sunsubscribe(feed.channel) : redis.unsubscribe(feed.channel)
    left.catch(() => {})
  }

  syncFailed (): void {
    this.#signal('sync.failed')
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#signal('close')
    this.#closed = true
    this.#stopPings()
    this.feeds.clear()
    await closeConnection(this.#redis)
  }

  /** After a (re)connection: subscribe every channel again, then bring each feed up to date. */
  async #catchUp (): Promise<void> {
    const again = this.#readyBefore
    this.#readyBefore = true
    if (this.feeds.size === 0) return
    if (again) await this.#settings.beforeCatchUp?.()
    const feeds = [...this.feeds.values()]
    if (feeds.length === 0) return
    await this.#subscribe(feeds.map((feed) => feed.channel))
    await Promise.all(feeds.map((feed) => feed.sync()))
  }

  async #subscribe (channels: string[]): Promise<void> {
    // SSUBSCRIBE takes the channels of one slot only: one command each (pipelined on the connection).
    if (this.#settings.sharded) await Promise.all(channels.map((channel) => this.#redis.ssubscribe(channel)))
    else await this.#redis.subscribe(...channels)
  }

  #signal (type: LifecycleEvent['type']): void {
    if (!this.#closed) this.#lifecycle.send({ type })
  }
}
