import { warn } from './report.js'
import type { BrokerEvent, EventPayload, TopicListener } from './types.js'

/** A close that arrives while an event is being delivered: it goes out after it. */
class PendingClose {
  constructor (readonly final: EventPayload | undefined) {}
}

/**
 * The listeners of one topic on this instance. Delivery is synchronous and in order. An event or a
 * close that a listener causes from inside its callback is queued and goes out once the current one
 * has reached every listener, so each listener still sees publish order. A listener that throws does
 * not keep the event from the others, and its error is reported as a process warning: re-thrown, it
 * would be an uncaught exception, and one bad event would end every process that listens.
 */
export class Fanout {
  readonly #listeners = new Set<TopicListener>()
  #queue: Array<BrokerEvent | PendingClose> | undefined
  #delivering = false

  constructor (readonly topic: string) {}

  get size (): number {
    return this.#listeners.size
  }

  add (listener: TopicListener): void {
    this.#listeners.add(listener)
  }

  /** False when the listener was not there (already removed, or the topic closed). */
  delete (listener: TopicListener): boolean {
    return this.#listeners.delete(listener)
  }

  event (event: BrokerEvent): void {
    this.#dispatch(event)
  }

  /** Tells every listener the topic closed, then forgets them. */
  closed (final: EventPayload | undefined): void {
    this.#dispatch(new PendingClose(final))
  }

  #dispatch (item: BrokerEvent | PendingClose): void {
    if (this.#delivering) {
      (this.#queue ??= []).push(item)
      return
    }
    this.#delivering = true
    this.#deliver(item)
    // The queue may grow while it is drained: listeners keep causing events.
    for (let i = 0; this.#queue !== undefined && i < this.#queue.length; i++) this.#deliver(this.#queue[i])
    this.#queue = undefined
    this.#delivering = false
  }

  #deliver (item: BrokerEvent | PendingClose): void {
    if (item instanceof PendingClose) {
      this.#deliverClose(item.final)
      return
    }
    for (const listener of this.#listeners) {
      try {
        listener.event(item)
      } catch (error) {
        this.#report(error)
      }
    }
  }

  #deliverClose (final: EventPayload | undefined): void {
    const listeners = [...this.#listeners]
    this.#listeners.clear()
    for (const listener of listeners) {
      try {
        listener.closed(final)
      } catch (error) {
        this.#report(error)
      }
    }
  }

  #report (error: unknown): void {
    warn('SSE_WARN_LISTENER_THREW', `A listener of topic ${JSON.stringify(this.topic)} threw: ${error instanceof Error ? error.message : typeof error}`, error)
  }
}
