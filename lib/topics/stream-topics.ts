import { START } from '../broker/epoch.js'
import { readAtOnce } from '../broker/memory.js'
import type { ReadResult, TopicPosition } from '../broker/types.js'
import { TooManyTopicsError } from '../errors.js'
import { type Cursor, cursorEntryBound, decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from '../protocol/cursor.js'
import type { TopicHub } from './hub.js'
import type { Published } from './published.js'
import { REPLAY_PAGE, Subscription, type SubscriptionOwner } from './subscription.js'

export interface StreamTopicsOwner extends SubscriptionOwner {
  /** The stream resumed `topic` from its cursor. */
  resumed (topic: string): void
}

/**
 * The topics of one stream and its cursor: for each topic, the position of the last event
 * processed. Every rule about the cursor is here: when it moves, when it must be written, when an
 * event's shared bytes carry it. A stream has few topics: a sorted array (the cursor's order) costs
 * less than maps.
 */
export class StreamTopics {
  #subscriptions: Subscription[] = []
  /** Where the client's Last-Event-ID says to resume; each topic's entry is used once. */
  readonly #resume: Cursor | undefined
  /** A Last-Event-ID was sent but is not a cursor: every topic starts with a reset. */
  readonly #unknownId: boolean
  readonly #maxTopics: number
  /** The most the cursor can take, for the topics subscribed: kept under MAX_CURSOR_LENGTH. */
  #cursorBound = 0
  /** The cursor moved since an id was last written. */
  #dirty = false

  constructor (readonly hub: TopicHub, readonly owner: StreamTopicsOwner, lastEventId: string | undefined, maxTopics: number) {
    this.#resume = decodeCursor(lastEventId)
    this.#unknownId = lastEventId !== undefined && lastEventId !== '' && this.#resume === undefined
    this.#maxTopics = maxTopics
  }

  get size (): number {
    return this.#subscriptions.length
  }

  #find (topic: string): Subscription | undefined {
    for (const subscription of this.#subscriptions) if (subscription.topic === topic) return subscription
    return undefined
  }

  /**
   * Subscribes and queues what the client missed. True when the topic is closed with nothing left
   * for this client (a 204 before the stream opens). Settled at once (no promise) when asked
   * `atOnce` (a stream still opening), the broker delivers the topic here already and reads at once
   * (the memory broker). An open stream is not: its handler's result for the message it is handling
   * must be written before what subscribing does (a closed topic ends the stream).
   */
  subscribe (topic: string, fromStart = false, atOnce = false): boolean | Promise<boolean> {
    if (this.#find(topic) !== undefined) return false
    const bound = cursorEntryBound(topic)
    if (this.#subscriptions.length >= this.#maxTopics || this.#cursorBound + bound > MAX_CURSOR_LENGTH) {
      throw new TooManyTopicsError(topic, this.#maxTopics)
    }
    const subscription = new Subscription(topic, this.owner, this.hub.broker)
    this.#insert(subscription)
    this.#cursorBound += bound
    try {
      const joining = this.hub.join(topic, subscription)
      // No cursor for the topic: the head, or its start when asked (its retained history first).
      const cursor = this.#resume?.get(topic)
      const from = cursor ?? (fromStart && !this.#unknownId ? START : undefined)
      this.#resume?.delete(topic)
      const read = atOnce && joining === undefined ? readAtOnce(this.hub.broker, topic, from, REPLAY_PAGE) : undefined
      if (read !== undefined) return this.#started(subscription, read, from, cursor !== undefined)
      return this.#subscribeLater(subscription, joining, from, cursor !== undefined)
    } catch (error) {
      this.unsubscribe(topic)
      throw error
    }
  }

  async #subscribeLater (subscription: Subscription, joining: Promise<void> | undefined, from: TopicPosition | undefined, resuming: boolean): Promise<boolean> {
    try {
      await joining
      const read = await this.hub.broker.read(subscription.topic, from, REPLAY_PAGE)
      if (this.#find(subscription.topic) !== subscription) return false
      return this.#started(subscription, read, from, resuming)
    } catch (error) {
      this.unsubscribe(subscription.topic)
      throw error
    }
  }

  /** After the first read: starts the subscription, or leaves a closed topic (true: nothing left). */
  #started (subscription: Subscription, read: ReadResult, from: TopicPosition | undefined, resuming: boolean): boolean {
    const topic = subscription.topic
    const exact = from !== undefined && read.complete
    // Closed: a client that has every event is told to stop (204); one that missed some gets them,
    // or a reset when they are past the history, then the close.
    const missed = exact ? read.head > from.offset : from !== undefined || this.#unknownId
    if (read.closed && !missed) {
      this.unsubscribe(topic)
      return true
    }
    if (exact) {
      if (resuming) this.owner.resumed(topic)
    } else if (from !== undefined || this.#unknownId) this.owner.reset(topic)
    subscription.start(read, exact ? from.offset : undefined)
    this.#dirty = true
    return false
  }

  /** In topic order, found by bisection: subscribing n topics costs O(n^2) moves at most, no sort. */
  #insert (subscription: Subscription): void {
    const list = this.#subscriptions
    if (list.length === 0) {
      this.#subscriptions = [subscription] // sized 1: a first push would reserve 17 slots, held while the stream lasts
      return
    }
    let low = 0
    let high = list.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (list[middle].topic < subscription.topic) low = middle + 1
      else high = middle
    }
    list.splice(low, 0, subscription)
  }

  unsubscribe (topic: string): void {
    const subscription = this.#find(topic)
    if (subscription === undefined) return
    this.#subscriptions.splice(this.#subscriptions.indexOf(subscription), 1)
    this.#cursorBound -= cursorEntryBound(topic)
    subscription.leave()
    this.hub.leave(topic, subscription)
    this.#dirty = true
  }

  /** Moves the cursor past `published` (whatever the handler writes for it); false when the stream left its topic. */
  advance (published: Published): boolean {
    const subscription = this.#find(published.topic)
    if (subscription === undefined) return false
    subscription.cursor = published.position
    this.#dirty = true
    return true
  }

  /** A reset that skips the topic to `position` (the history moved past the client): the cursor follows. */
  jump (topic: string, position: TopicPosition | undefined): void {
    const subscription = this.#find(topic)
    if (subscription === undefined || position === undefined) return
    subscription.cursor = position
    this.#dirty = true
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
    this.#dirty = false
    return true
  }

  /**
   * The event about to be written is `published`, and the cursor to write is its position alone:
   * its shared bytes carry the right id, and the cursor is written by them. False otherwise.
   */
  takeSharedWrite (published: Published): boolean {
    if (!this.#dirty || this.#subscriptions.length !== 1 || this.#subscriptions[0].cursor !== published.position) return false
    this.#dirty = false
    return true
  }

  /** The cursor to write on the next chunk, when it moved since the last one; undefined otherwise. */
  takeCursorId (): string | undefined {
    if (!this.#dirty) return undefined
    this.#dirty = false
    return encodeCursor(this.#subscriptions)
  }

  leaveAll (): void {
    for (const subscription of this.#subscriptions) {
      subscription.leave()
      this.hub.leave(subscription.topic, subscription)
    }
    this.#subscriptions.length = 0
  }
}
