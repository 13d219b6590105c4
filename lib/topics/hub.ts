import type { FastifyBaseLogger } from 'fastify'
import type { Broker, BrokerEvent, EventPayload, TopicListener } from '../broker/types.js'
import type { Event } from '../protocol/event.js'
import { eventOf, publishedOf, type Published } from './published.js'

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

  constructor (readonly log: FastifyBaseLogger) {}

  // Called by the broker: nothing may be thrown back at it (a broker's listener must not throw).
  event (source: BrokerEvent): void {
    if (this.subscribers.size === 0) return
    const published = publishedOf(source, this.log)
    if (published === undefined) return
    for (const subscriber of this.subscribers) {
      try {
        subscriber.deliver(published)
      } catch (error) {
        this.log.error({ err: error, topic: source.topic }, 'a stream failed to take a topic event')
      }
    }
  }

  closed (final: EventPayload | undefined): void {
    const event = final === undefined ? undefined : eventOf(final, this.log)
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.topicClosed(event)
      } catch (error) {
        this.log.error({ err: error }, 'a stream failed to take a topic close')
      }
    }
  }
}

/** Fans each broker event out to the streams of this instance, built and encoded once. */
export class TopicHub {
  readonly #topics = new Map<string, LocalTopic>()

  constructor (readonly broker: Broker, readonly log: FastifyBaseLogger) {}

  /**
   * Resolves once the broker delivers the topic here, so a read made afterwards misses nothing;
   * undefined when it does already (no turn of the event loop for a topic other streams listen to).
   */
  join (topic: string, subscriber: TopicSubscriber): Promise<void> | undefined {
    let local = this.#topics.get(topic)
    if (local === undefined) {
      const created = local = new LocalTopic(this.log)
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
    return local.listening ? undefined : local.ready
  }

  leave (topic: string, subscriber: TopicSubscriber): void {
    const local = this.#topics.get(topic)
    if (local === undefined || !local.subscribers.delete(subscriber) || local.subscribers.size > 0) return
    this.#topics.delete(topic)
    local.unlisten?.()
  }
}
