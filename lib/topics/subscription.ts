import type { ReadResult, TopicPosition } from '../broker/types.js'
import type { Event } from '../protocol/event.js'
import type { TopicSubscriber } from './hub.js'
import { Published } from './published.js'

export interface SubscriptionOwner {
  enqueuePublished (published: Published): void
  /** The stream cannot follow `topic` exactly: it must be told before the topic's next event. */
  reset (topic: string): void
  topicClosed (final: Event | undefined): void
}

/**
 * One stream's place in one topic. Live events that arrive while the history is being read wait
 * here; then history and waiting events are merged by offset, so nothing is missed or repeated.
 */
export class Subscription implements TopicSubscriber {
  epoch = ''
  /** The last offset put in the mailbox. */
  queued = 0
  /** The position of the last event the stream processed: its part of the stream's cursor. */
  cursor: TopicPosition | undefined
  #waiting: Published[] | undefined = []

  constructor (readonly topic: string, readonly owner: SubscriptionOwner) {}

  deliver (published: Published): void {
    if (this.#waiting !== undefined) this.#waiting.push(published)
    else this.#enqueue(published)
  }

  topicClosed (final: Event | undefined): void {
    this.owner.topicClosed(final)
  }

  /** Starts from `from` (the history's events after it), or from the head when `from` is undefined. */
  start (read: ReadResult, from: number | undefined): void {
    this.epoch = read.epoch
    this.queued = from ?? read.head
    this.cursor = { epoch: read.epoch, offset: this.queued }
    if (from !== undefined) for (const event of read.events) this.#enqueue(new Published(event))
    const waiting = this.#waiting!
    this.#waiting = undefined
    for (const published of waiting) this.#enqueue(published)
  }

  #enqueue (published: Published): void {
    const { epoch, offset } = published.position
    if (epoch === this.epoch && offset <= this.queued) return
    // A jump the broker could not fill (past its retention) or a new epoch (the topic's history was
    // lost): what the stream missed cannot be replayed, so it is told, as on a reconnect.
    if (epoch !== this.epoch || offset !== this.queued + 1) this.owner.reset(this.topic)
    this.epoch = epoch
    this.queued = offset
    this.owner.enqueuePublished(published)
  }
}
