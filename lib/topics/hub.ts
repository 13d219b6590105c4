import type { Broker, BrokerEvent, EventPayload, TopicListener } from '../broker/types.js'
import { Event } from '../protocol/event.js'
import { Published } from './published.js'

/** A stream's end of one topic. */
export interface TopicSubscriber {
  deliver (published: Published): void
  topicClosed (final: Event | undefined): void
}

/** One topic as this instance sees it: one broker listener, however many local subscribers. */
class LocalTopic implements TopicListener {
  readonly subscribers = new Set<TopicSubscriber>()
  ready: Promise<void> | undefined
  /** `ready` has resolved: later subscribers need not wait a microtask for it. */
  listening = false
  unlisten: (() => void) | undefined

  event (source: BrokerEvent): void {
    if (this.subscribers.size === 0) return
    const published = new Published(source)
    for (const subscriber of this.subscribers) subscriber.deliver(published)
  }

  closed (final: EventPayload | undefined): void {
    const event = final === undefined ? undefined : new Event(final)
    for (const subscriber of [...this.subscribers]) subscriber.topicClosed(event)
  }
}

/** Fans each broker event out to the streams of this instance, built and encoded once. */
export class TopicHub {
  readonly #topics = new Map<string, LocalTopic>()

  constructor (readonly broker: Broker) {}

  /** Resolves once the broker delivers the topic here, so a read made afterwards misses nothing. */
  async join (topic: string, subscriber: TopicSubscriber): Promise<void> {
    let local = this.#topics.get(topic)
    if (local === undefined) {
      const created = local = new LocalTopic()
      this.#topics.set(topic, created)
      created.ready = this.broker.listen(topic, created).then((unlisten) => {
        if (this.#topics.get(topic) !== created) return unlisten()
        created.unlisten = unlisten
        created.listening = true
      }, (error: unknown) => {
        if (this.#topics.get(topic) === created) this.#topics.delete(topic)
        throw error
      })
    }
    local.subscribers.add(subscriber)
    if (!local.listening) await local.ready
  }

  leave (topic: string, subscriber: TopicSubscriber): void {
    const local = this.#topics.get(topic)
    if (local === undefined || !local.subscribers.delete(subscriber) || local.subscribers.size > 0) return
    this.#topics.delete(topic)
    local.unlisten?.()
  }

  /** Topics this instance listens to. */
  get size (): number {
    return this.#topics.size
  }
}
