import { type Cursor, decodeCursor, encodeCursor } from '../protocol/cursor.js'
import type { TopicHub } from './hub.js'
import type { Published } from './published.js'
import { Subscription, type SubscriptionOwner } from './subscription.js'

export interface StreamTopicsOwner extends SubscriptionOwner {
  /** The stream resumed `topic` from its cursor. */
  resumed (topic: string): void
}

function byTopic (a: Subscription, b: Subscription): number {
  return a.topic < b.topic ? -1 : 1
}

/**
 * The topics of one stream and its cursor: for each topic, the position of the last event
 * processed. A stream has few topics: a sorted array (the cursor's order) costs less than maps.
 */
export class StreamTopics {
  readonly #subscriptions: Subscription[] = []
  /** Where the client's Last-Event-ID says to resume; each topic's entry is used once. */
  readonly #resume: Cursor | undefined
  /** A Last-Event-ID was sent but is not a cursor: every topic starts with a reset. */
  readonly #unknownId: boolean
  /** The cursor moved since an id was last written. */
  dirty = false

  constructor (readonly hub: TopicHub, readonly owner: StreamTopicsOwner, lastEventId: string | undefined) {
    this.#resume = decodeCursor(lastEventId)
    this.#unknownId = lastEventId !== undefined && lastEventId !== '' && this.#resume === undefined
  }

  get size (): number {
    return this.#subscriptions.length
  }

  #find (topic: string): Subscription | undefined {
    for (const subscription of this.#subscriptions) if (subscription.topic === topic) return subscription
    return undefined
  }

  /** Subscribes and queues what the client missed; resolves true when the topic is closed. */
  async subscribe (topic: string): Promise<boolean> {
    if (this.#find(topic) !== undefined) return false
    const subscription = new Subscription(topic, this.owner)
    this.#subscriptions.push(subscription)
    this.#subscriptions.sort(byTopic)
    try {
      await this.hub.join(topic, subscription)
      const from = this.#resume?.get(topic)
      this.#resume?.delete(topic)
      const read = await this.hub.broker.read(topic, from)
      if (this.#find(topic) !== subscription) return false
      if (read.closed) {
        this.unsubscribe(topic)
        return true
      }
      const exact = from !== undefined && read.complete
      if (exact) this.owner.resumed(topic)
      else if (from !== undefined || this.#unknownId) this.owner.reset(topic)
      subscription.start(read, exact ? from.offset : undefined)
      this.dirty = true
      return false
    } catch (error) {
      this.unsubscribe(topic)
      throw error
    }
  }

  unsubscribe (topic: string): void {
    const subscription = this.#find(topic)
    if (subscription === undefined) return
    this.#subscriptions.splice(this.#subscriptions.indexOf(subscription), 1)
    this.hub.leave(topic, subscription)
    this.dirty = true
  }

  /** Moves the cursor past `published`; false when the stream has left its topic meanwhile. */
  processed (published: Published): boolean {
    const subscription = this.#find(published.topic)
    if (subscription === undefined) return false
    subscription.cursor = published.position
    this.dirty = true
    return true
  }

  /**
   * For a stream whose one topic is this event's, already started: moves the cursor past it and
   * returns true (the event's shared bytes then carry the stream's id). Otherwise changes nothing.
   */
  advanceSole (published: Published): boolean {
    if (this.#subscriptions.length !== 1) return false
    const only = this.#subscriptions[0]
    if (only.topic !== published.topic || only.cursor === undefined) return false
    only.cursor = published.position
    this.dirty = false
    return true
  }

  /** True when the cursor is this event's position alone, so the event's shared bytes carry the right id. */
  isSoleCursor (published: Published): boolean {
    return this.#subscriptions.length === 1 && this.#subscriptions[0].cursor === published.position
  }

  cursorId (): string {
    return encodeCursor(this.#subscriptions)
  }

  leaveAll (): void {
    for (const subscription of this.#subscriptions) this.hub.leave(subscription.topic, subscription)
    this.#subscriptions.length = 0
  }
}
