import type { BrokerEvent } from './types.js'

/**
 * The last `capacity` events of one topic epoch, in a ring. Offsets are contiguous from 1, so an
 * offset names its slot: appending is O(1) and nothing is copied or shifted.
 */
export class History {
  readonly #slots: BrokerEvent[] = []

  constructor (readonly capacity: number) {}

  /** How many events are retained. */
  get size (): number {
    return this.#slots.length
  }

  /** Takes the epoch's next event (its offset is the previous one plus 1). */
  append (event: BrokerEvent): void {
    if (this.#slots.length < this.capacity) this.#slots.push(event)
    else this.#slots[(event.offset - 1) % this.capacity] = event
  }

  /** The retained events from offset `from` to `to`, both included; the caller checked they are retained. */
  range (from: number, to: number): BrokerEvent[] {
    const events: BrokerEvent[] = []
    for (let offset = from; offset <= to; offset++) events.push(this.#slots[(offset - 1) % this.capacity])
    return events
  }
}
