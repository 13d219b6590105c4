import type { FastifyBaseLogger } from 'fastify'
import { NO_EPOCH } from '../broker/epoch.js'
import type { Broker, BrokerEvent, ReadResult, TopicPosition } from '../broker/types.js'
import type { Event } from '../protocol/event.js'
import type { TopicSubscriber } from './hub.js'
import { eventOf, publishedOf, type Published } from './published.js'

/** Events read from the history at a time: a client far behind is replayed a page after another. */
export const REPLAY_PAGE = 256

/** No events to replay: the subscription starts at the head. */
const NONE: readonly BrokerEvent[] = []

/** Live events held while the history is read; past it they are dropped and read from the history. */
const WAITING_LIMIT = 1024

export interface SubscriptionOwner {
  readonly log: FastifyBaseLogger
  /** `replayed`: read from the history, so it does not count against `mailbox.limit`. */
  enqueuePublished (published: Published, replayed: boolean): void
  /** The stream cannot follow `topic` exactly: it must be told before the topic's next event. */
  reset (topic: string, position?: TopicPosition): void
  /** After everything queued before it: the topic closed. */
  topicClosed (final: Event | undefined): void
  /** A page went to the mailbox: `next` reads the following one once the stream took it. */
  replayMore (next: () => void): void
  replayFailed (error: unknown): void
}

/**
 * One stream's place in one topic. While the history is replayed (a page at a time, each read once
 * the stream took the last one), live events wait here; then they follow, merged by offset, so
 * nothing is missed or repeated. A close that arrives meanwhile waits for the replay too.
 */
export class Subscription implements TopicSubscriber {
  epoch = ''
  /** The offset of the last event put in the mailbox. */
  lastQueued = 0
  /** The position of the last event the stream processed: its part of the stream's cursor. */
  cursor: TopicPosition | undefined
  /** Live events that arrived while the history is read; undefined once live. */
  #waiting: Published[] | undefined = []
  /** Live events were dropped from #waiting: the history must be read again before going live. */
  #dropped = false
  #closing: { final: Event | undefined } | undefined
  #left = false

  constructor (readonly topic: string, readonly owner: SubscriptionOwner, readonly broker: Broker) {}

  deliver (published: Published): void {
    const waiting = this.#waiting
    if (waiting === undefined) {
      this.#enqueue(published, false)
    } else if (waiting.length < WAITING_LIMIT) {
      waiting.push(published)
    } else {
      waiting.length = 0
      this.#dropped = true
    }
  }

  topicClosed (final: Event | undefined): void {
    if (this.#waiting === undefined) this.owner.topicClosed(final)
    else this.#closing = { final }
  }

  /** After the first read: replays its events after `from`, or starts at the head when `from` is undefined. */
  start (read: ReadResult, from: number | undefined): void {
    this.epoch = read.epoch
    this.lastQueued = from ?? read.head
    this.cursor = { epoch: read.epoch, offset: this.lastQueued }
    this.#replay(read, from === undefined ? NONE : read.events)
  }

  /** The stream left the topic: a read in flight is ignored. */
  leave (): void {
    this.#left = true
    this.#waiting = undefined
  }

  #replay (read: ReadResult, events: readonly BrokerEvent[]): void {
    for (const event of events) this.#enqueueStored(event)
    if (read.closed) this.#closing ??= { final: read.final === undefined ? undefined : eventOf(read.final, this.owner.log) }
    const more = events.length >= REPLAY_PAGE && this.lastQueued < read.head
    if (more || this.#dropped) this.owner.replayMore(() => { void this.#readPage() })
    else this.#goLive()
  }

  async #readPage (): Promise<void> {
    if (this.#left) return
    this.#dropped = false
    let read: ReadResult
    try {
      read = await this.broker.read(this.topic, { epoch: this.epoch, offset: this.lastQueued }, REPLAY_PAGE)
    } catch (error) {
      if (!this.#left) this.owner.replayFailed(error)
      return
    }
    if (this.#left) return
    if (!read.complete) {
      // The history moved on while the stream was replaying (it trimmed what the client had not had).
      this.owner.reset(this.topic, { epoch: read.epoch, offset: read.head })
      this.epoch = read.epoch
      this.lastQueued = read.head
    }
    this.#replay(read, read.complete ? read.events : NONE)
  }

  #goLive (): void {
    const waiting = this.#waiting ?? []
    this.#waiting = undefined
    for (const published of waiting) this.#enqueue(published, false)
    if (this.#closing !== undefined) this.owner.topicClosed(this.#closing.final)
  }

  /** An event read from the history: one that does not decode is dropped (and shows as a gap). */
  #enqueueStored (event: BrokerEvent): void {
    const published = publishedOf(event, this.owner.log)
    if (published !== undefined) this.#enqueue(published, true)
  }

  #enqueue (published: Published, replayed: boolean): void {
    const { epoch, offset } = published.position
    if (epoch === this.epoch && offset <= this.lastQueued) return
    // A jump the broker could not fill (past its retention) or a new epoch (the topic's history was
    // lost): what the stream missed cannot be replayed, so it is told, as on a reconnect.
    if (!this.#follows(epoch, offset)) this.owner.reset(this.topic)
    this.epoch = epoch
    this.lastQueued = offset
    this.owner.enqueuePublished(published, replayed)
  }

  #follows (epoch: string, offset: number): boolean {
    if (this.epoch === NO_EPOCH && this.lastQueued === 0) return offset === 1 // the topic's first event
    return epoch === this.epoch && offset === this.lastQueued + 1
  }
}
