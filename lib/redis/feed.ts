import { isStart } from '../broker/epoch.js'
import { Fanout } from '../broker/fanout.js'
import { warn } from '../broker/report.js'
import type { BrokerEvent, EventPayload, TopicPosition } from '../broker/types.js'
import { CloseMessage, decodeMessage } from './codec.js'

/** A topic's state and what its stream holds after a position, read in one atomic step. */
export interface TopicSnapshot {
  epoch: string
  head: number
  /** The retained events after the position asked, when that position is in the current epoch. */
  events: BrokerEvent[]
  closed: boolean
  final: EventPayload | undefined
}

/** What a feed needs from its broker. */
export interface FeedSource {
  /** Subscribes the topic's channel; resolves once the subscription is in effect. */
  subscribe (feed: TopicFeed): Promise<unknown>
  read (after: TopicPosition | undefined): Promise<TopicSnapshot>
  /** A sync started by the feed itself failed: it holds live events until the broker syncs it again. */
  syncFailed (error: unknown): void
  /** The topic closed and the listeners were told: the broker forgets the feed. */
  closed (): void
}

/** The position before the first sync: it matches no epoch. */
const UNKNOWN: TopicPosition = { epoch: '', offset: 0 }

/**
 * One listened topic on this instance. Live events come over Pub/Sub in publish order and go to the
 * listeners as they are, as long as each one follows the last delivered. Whenever that cannot be
 * known (the first sync on listen, after a reconnect, when an offset skips or the epoch changes), the
 * feed syncs: it holds live events, reads the topic's stream after the last offset delivered, delivers
 * what the read brings, then lets through the held events that follow.
 */
export class TopicFeed {
  readonly fanout: Fanout
  /** Resolves once the feed delivers live events: its channel subscribed first, then its first sync. */
  readonly ready: Promise<void>
  #position = UNKNOWN
  /** Live events held while a sync is due; undefined while the feed is live. */
  #held: BrokerEvent[] | undefined = []
  #wasClosed = false
  #again = false
  #syncing: Promise<void> | undefined
  readonly #source: FeedSource
  /** Held events beyond it are dropped, to be read again from the stream. */
  readonly #heldLimit: number

  constructor (readonly topic: string, readonly channel: string, source: FeedSource, heldLimit: number) {
    this.#source = source
    this.#heldLimit = heldLimit
    this.fanout = new Fanout(topic)
    // Subscribed before the read: an event published in between comes both ways and is delivered once.
    this.ready = source.subscribe(this).then(() => this.sync())
  }

  /** Called from the subscriber connection's event handler: it may not throw. */
  receive (message: Buffer): void {
    let decoded
    try {
      decoded = decodeMessage(this.topic, message)
    } catch (error) {
      // Someone else's message on our channel: dropped, the feed goes on.
      warn('SSE_WARN_MALFORMED', `Dropped a message on the channel of topic ${JSON.stringify(this.topic)}: ${(error as Error).message}`, error)
      return
    }
    if (decoded instanceof CloseMessage) {
      this.#receiveClose(decoded.final)
      return
    }
    if (this.#held === undefined) {
      if (this.#follows(decoded)) {
        this.#deliver(decoded)
        return
      }
      if (this.#seen(decoded)) return
      this.sync().catch((error: unknown) => this.#source.syncFailed(error))
    }
    this.#hold(decoded)
  }

  /** Brings the listeners up to the topic's head from its stream. Calls made meanwhile share one run. */
  sync (): Promise<void> {
    this.#again = true
    this.#held ??= []
    this.#syncing ??= this.#run()
    return this.#syncing
  }

  async #run (): Promise<void> {
    try {
      while (this.#again) {
        this.#again = false
        if (this.#apply(await this.#source.read(this.#position === UNKNOWN ? undefined : this.#position))) return
      }
      this.#held = undefined
    } finally {
      // In the same turn as the loop's end: a sync() made later starts a new run.
      this.#syncing = undefined
    }
  }

  /** Takes a read in; true when it found the topic closed. */
  #apply (snapshot: TopicSnapshot): boolean {
    const { epoch, head } = snapshot
    if (this.#position === UNKNOWN) {
      // Listening starts at the head: the caller reads what came before.
      this.#position = { epoch, offset: head }
      this.#wasClosed = snapshot.closed
    } else if (epoch !== this.#position.epoch && !isStart(this.#position)) {
      // The topic's data was lost and it began again: everything of its new epoch is new.
      this.#position = { epoch, offset: 0 }
      this.#wasClosed = false
      this.#again = true
      return false
    } else {
      // Same epoch, or the feed was at the start: the read brought the events from offset 1 on.
      for (const event of snapshot.events) this.#deliver(event)
      // Events the stream no longer holds cannot be delivered: skip them rather than wait for them.
      if (this.#position.offset < head) this.#position = { epoch, offset: head }
      if (snapshot.closed && !this.#wasClosed) {
        this.#close(snapshot.final)
        return true
      }
    }
    this.#releaseHeld()
    return false
  }

  /** Lets through the held events that follow what was delivered; one that does not asks for another read. */
  #releaseHeld (): void {
    const held = this.#held ?? []
    this.#held = []
    for (const event of held) {
      if (this.#follows(event)) this.#deliver(event)
      else if (!this.#seen(event)) this.#again = true
    }
  }

  #hold (event: BrokerEvent): void {
    const held = this.#held!
    if (held.length < this.#heldLimit) {
      held.push(event)
    } else {
      held.length = 0
      this.#again = true
    }
  }

  #receiveClose (final: EventPayload | undefined): void {
    if (this.#held === undefined) {
      this.#close(final)
    } else {
      // Events may still be missing: the next read delivers them, then finds the tombstone.
      this.#again = true
    }
  }

  #close (final: EventPayload | undefined): void {
    this.fanout.closed(final)
    this.#source.closed()
  }

  #deliver (event: BrokerEvent): void {
    this.#position = event
    this.fanout.event(event)
  }

  /** The topic had no epoch when the feed last read it: the first event of whichever it gets follows. */
  #follows (event: BrokerEvent): boolean {
    return event.offset === this.#position.offset + 1 && (event.epoch === this.#position.epoch || isStart(this.#position))
  }

  #seen (event: BrokerEvent): boolean {
    return event.offset <= this.#position.offset && event.epoch === this.#position.epoch
  }
}
