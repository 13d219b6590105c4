import { refuseUnknownKeys } from '../check-keys.js'
import { BrokerClosedError, TopicClosedError } from '../errors.js'
import { newEpoch, NO_EPOCH } from './epoch.js'
import { Fanout } from './fanout.js'
import { History } from './history.js'
import type { Broker, BrokerEvent, EventPayload, ReadResult, TopicListener, TopicPosition } from './types.js'
import { canResume, integerOption, validateLimit, validateTopic } from './validate.js'

export interface MemoryBrokerOptions {
  /** Events kept per topic for replay (a count; default 1000). */
  history?: number
  /**
   * Open topics kept at most (a count; default 10 000). Beyond it the least recently used topic
   * without listeners is forgotten; a listened topic never is, so listened topics alone may exceed it.
   */
  topics?: number
  /**
   * Tombstones of closed topics kept at most (a count; default 10 000); beyond it the oldest closed is
   * forgotten, and its topic may open again. Counted apart from `topics`, so that reading or listening
   * to other names can never evict one.
   */
  tombstones?: number
}

const OPTIONS = ['history', 'topics', 'tombstones'] as const satisfies ReadonlyArray<keyof MemoryBrokerOptions>

interface Limits {
  history: number
  topics: number
  tombstones: number
}

class MemoryTopic {
  /** Given on the first publish: a topic only listened or read has none, as on Redis. */
  epoch = NO_EPOCH
  head = 0
  readonly history: History
  readonly fanout: Fanout
  closed = false
  /** What closeTopic was given, kept with the tombstone. */
  final: EventPayload | undefined

  constructor (topic: string, history: number) {
    this.history = new History(history)
    this.fanout = new Fanout(topic)
  }
}

/** What a topic this broker does not hold reads as: never published (or forgotten). */
const ABSENT = new MemoryTopic('', 1)

/**
 * The embedded broker: topics live in this process only. Listeners are called synchronously from
 * `publish` and `closeTopic`, before their promises settle.
 */
export function memoryBroker (options: MemoryBrokerOptions = {}): Broker {
  refuseUnknownKeys(options, OPTIONS, 'memoryBroker')
  return new MemoryBroker({
    history: integerOption('history', options.history, 1000, 1),
    topics: integerOption('topics', options.topics, 10_000, 1),
    tombstones: integerOption('tombstones', options.tombstones, 10_000, 1)
  })
}

class MemoryBroker implements Broker {
  /** The open topics: published, or listened to. */
  readonly #topics = new Map<string, MemoryTopic>()
  /** The open topics without listeners, least recently used first: the only ones eviction may take. */
  readonly #idle = new Map<string, MemoryTopic>()
  /** The closed topics, oldest closed first. */
  readonly #tombstones = new Map<string, MemoryTopic>()
  readonly #limits: Limits
  #closed = false

  constructor (limits: Limits) {
    this.#limits = limits
  }

  async publish (topic: string, payload: EventPayload): Promise<BrokerEvent> {
    this.#check(topic)
    if (this.#tombstones.has(topic)) throw new TopicClosedError(topic)
    const state = this.#open(topic)
    if (state.epoch === NO_EPOCH) state.epoch = newEpoch()
    state.head += 1
    const event: BrokerEvent = { topic, epoch: state.epoch, offset: state.head, event: payload.event, data: payload.data }
    state.history.append(event)
    state.fanout.event(event)
    return event
  }

  async listen (topic: string, listener: TopicListener): Promise<() => void> {
    this.#check(topic)
    // A closed topic tells nothing more; the read that follows a listen tells it closed.
    if (this.#tombstones.has(topic)) return () => {}
    const state = this.#open(topic)
    this.#idle.delete(topic)
    state.fanout.add(listener)
    return () => {
      if (state.fanout.delete(listener)) this.#released(topic, state)
    }
  }

  async read (topic: string, after?: TopicPosition, limit?: number): Promise<ReadResult> {
    return this.readNow(topic, after, limit)
  }

  /** `read` at once: a stream subscribing to this broker opens without waiting a turn for it. */
  readNow (topic: string, after?: TopicPosition, limit?: number): ReadResult {
    this.#check(topic)
    validateLimit(limit)
    const { epoch, head, history, closed, final } = this.#tombstones.get(topic) ?? this.#touch(topic) ?? ABSENT
    const complete = canResume(after, epoch, head, head - history.size + 1)
    if (after === undefined || !complete) return { epoch, head, events: [], complete, closed, final }
    const from = after.offset + 1
    const to = limit === undefined ? head : Math.min(head, after.offset + limit)
    return { epoch, head, events: history.range(from, to), complete, closed, final }
  }

  async closeTopic (topic: string, final?: EventPayload): Promise<void> {
    this.#check(topic)
    if (this.#tombstones.has(topic)) return
    const state = this.#topics.get(topic) ?? new MemoryTopic(topic, this.#limits.history)
    this.#topics.delete(topic)
    this.#idle.delete(topic)
    state.closed = true
    state.final = final === undefined ? undefined : { event: final.event, data: final.data }
    this.#tombstones.set(topic, state)
    for (const oldest of this.#tombstones.keys()) {
      if (this.#tombstones.size <= this.#limits.tombstones) break
      this.#tombstones.delete(oldest)
    }
    state.fanout.closed(state.final)
  }

  async reopenTopic (topic: string): Promise<void> {
    this.#check(topic)
    this.#tombstones.delete(topic) // the next publish or listen starts a new MemoryTopic: a new epoch
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#topics.clear()
    this.#idle.clear()
    this.#tombstones.clear()
  }

  #check (topic: string): void {
    if (this.#closed) throw new BrokerClosedError()
    validateTopic(topic)
  }

  /** The open topic's state, marked as the most recently used; undefined when there is none. */
  #touch (topic: string): MemoryTopic | undefined {
    const state = this.#topics.get(topic)
    if (state !== undefined && this.#idle.delete(topic)) this.#idle.set(topic, state)
    return state
  }

  /** The open topic's state, made if need be, marked as the most recently used. */
  #open (topic: string): MemoryTopic {
    const existing = this.#touch(topic)
    if (existing !== undefined) return existing
    this.#evictDownTo(this.#limits.topics - 1)
    const state = new MemoryTopic(topic, this.#limits.history)
    this.#topics.set(topic, state)
    this.#idle.set(topic, state)
    return state
  }

  /** A topic may have lost its last listener: it becomes evictable. */
  #released (topic: string, state: MemoryTopic): void {
    if (state.fanout.size > 0 || this.#topics.get(topic) !== state) return
    this.#idle.set(topic, state)
    this.#evictDownTo(this.#limits.topics)
  }

  #evictDownTo (count: number): void {
    for (const topic of this.#idle.keys()) {
      if (this.#topics.size <= count) return
      this.#idle.delete(topic)
      this.#topics.delete(topic)
    }
  }
}

/** The first read of a subscription, made at once when `broker` is this module's; undefined otherwise. */
export function readAtOnce (broker: Broker, topic: string, after: TopicPosition | undefined, limit: number): ReadResult | undefined {
  return broker instanceof MemoryBroker ? broker.readNow(topic, after, limit) : undefined
}
