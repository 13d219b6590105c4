import { BrokerClosedError, TopicClosedError } from '../errors.js'
import { newEpoch } from './epoch.js'
import { Fanout } from './fanout.js'
import { History } from './history.js'
import type { Broker, BrokerEvent, EventPayload, ReadResult, TopicListener, TopicPosition } from './types.js'
import { canResume, integerOption, validateTopic } from './validate.js'

export interface MemoryBrokerOptions {
  /** Events kept per topic for replay (default 1000). */
  history?: number
  /**
   * Topics kept at most, tombstones included (default 10 000). Beyond it the least recently used topic
   * without listeners is forgotten; a listened topic never is, so listened topics alone may exceed it.
   */
  topics?: number
}

class MemoryTopic {
  readonly epoch = newEpoch()
  head = 0
  readonly history: History
  readonly fanout = new Fanout()
  closed = false

  constructor (history: number) {
    this.history = new History(history)
  }
}

/**
 * The embedded broker: topics live in this process only. Listeners are called synchronously from
 * `publish` and `closeTopic`, before their promises settle.
 */
export function memoryBroker (options: MemoryBrokerOptions = {}): Broker {
  return new MemoryBroker(
    integerOption('history', options.history, 1000, 1),
    integerOption('topics', options.topics, 10_000, 1))
}

class MemoryBroker implements Broker {
  readonly #topics = new Map<string, MemoryTopic>()
  /** The topics without listeners, least recently used first: the only ones eviction may take. */
  readonly #idle = new Map<string, MemoryTopic>()
  readonly #historySize: number
  readonly #topicLimit: number
  #closed = false

  constructor (historySize: number, topicLimit: number) {
    this.#historySize = historySize
    this.#topicLimit = topicLimit
  }

  async publish (topic: string, payload: EventPayload): Promise<BrokerEvent> {
    const state = this.#use(topic)
    if (state.closed) throw new TopicClosedError(topic)
    state.head += 1
    const event: BrokerEvent = { topic, epoch: state.epoch, offset: state.head, event: payload.event, data: payload.data }
    state.history.append(event)
    state.fanout.event(event)
    return event
  }

  async listen (topic: string, listener: TopicListener): Promise<() => void> {
    const state = this.#use(topic)
    this.#idle.delete(topic)
    state.fanout.add(listener)
    return () => {
      if (state.fanout.delete(listener)) this.#released(topic, state)
    }
  }

  async read (topic: string, after?: TopicPosition): Promise<ReadResult> {
    const { epoch, head, history, closed } = this.#use(topic)
    const complete = canResume(after, epoch, head, head - history.size + 1)
    const events = after !== undefined && complete ? history.range(after.offset + 1, head) : []
    return { epoch, head, events, complete, closed }
  }

  async closeTopic (topic: string, final?: EventPayload): Promise<void> {
    const state = this.#use(topic)
    if (state.closed) return
    state.closed = true
    state.fanout.closed(final)
    this.#released(topic, state)
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#topics.clear()
    this.#idle.clear()
  }

  /** The topic's state, created if need be, and marked as the most recently used. */
  #use (topic: string): MemoryTopic {
    if (this.#closed) throw new BrokerClosedError()
    validateTopic(topic)
    let state = this.#topics.get(topic)
    if (state === undefined) {
      this.#evictDownTo(this.#topicLimit - 1)
      state = new MemoryTopic(this.#historySize)
      this.#topics.set(topic, state)
      this.#idle.set(topic, state)
    } else if (this.#idle.delete(topic)) {
      this.#idle.set(topic, state)
    }
    return state
  }

  /** A topic may have lost its last listener: it becomes evictable. */
  #released (topic: string, state: MemoryTopic): void {
    if (state.fanout.size > 0 || this.#topics.get(topic) !== state) return
    this.#idle.set(topic, state)
    this.#evictDownTo(this.#topicLimit)
  }

  #evictDownTo (count: number): void {
    for (const topic of this.#idle.keys()) {
      if (this.#topics.size <= count) return
      this.#idle.delete(topic)
      this.#topics.delete(topic)
    }
  }
}
