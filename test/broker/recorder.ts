import type { Test } from 'tap'
import type { Broker, BrokerEvent, EventPayload, TopicListener } from '../../lib/broker/types.js'

/** Only a guard, so that a broken broker fails a wait instead of hanging the run: nothing is timed. */
const GIVE_UP_AFTER = 15_000

/** A listener that keeps what it is given and lets a test wait for it. */
export class Recorder implements TopicListener {
  readonly events: BrokerEvent[] = []
  readonly finals: Array<EventPayload | undefined> = []
  readonly #waiters = new Set<() => void>()

  event (event: BrokerEvent): void {
    this.events.push(event)
    this.#wake()
  }

  closed (final: EventPayload | undefined): void {
    this.finals.push(final)
    this.#wake()
  }

  get offsets (): number[] {
    return this.events.map((event) => event.offset)
  }

  /** Resolves once an event with at least this offset came (in any epoch). */
  untilOffset (offset: number): Promise<void> {
    return this.until(() => this.events.some((event) => event.offset >= offset), `offset ${offset}`)
  }

  untilClosed (): Promise<void> {
    return this.until(() => this.finals.length > 0, 'the topic to close')
  }

  until (done: () => boolean, what: string): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return
        finish()
        resolve()
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`gave up waiting for ${what}; offsets so far: ${this.offsets.join(',')}`))
      }, GIVE_UP_AFTER)
      const finish = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
    })
  }

  #wake (): void {
    for (const check of this.#waiters) check()
  }
}

/** 1, 2, ... n */
export function range (from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/**
 * With the subscriber's path frozen by `freeze` (no FIN, no RST: only an unanswered PING tells),
 * events 2..50 published meanwhile arrive once, in order, and live delivery goes on after.
 */
export async function frozenPathCatchesUp (t: Test, publisher: Broker, recorder: Recorder, freeze: () => number, what: string): Promise<void> {
  t.equal(freeze(), 1, what)
  for (let n = 2; n <= 50; n++) await publisher.publish('room', { data: String(n) })
  await recorder.untilOffset(50)
  t.same(recorder.offsets, range(1, 50), 'what was published while frozen came once, in order')
  const live = await publisher.publish('room', { data: 'live' })
  await recorder.untilOffset(live.offset)
  t.same(recorder.offsets, range(1, live.offset), 'and live delivery goes on')
}
