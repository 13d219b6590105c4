import type { Test } from 'tap'
import type { Broker, BrokerEvent } from '../../lib/broker/types.js'
import { range } from './recorder.js'

// What the parts of the broker contract share: the fixture each broker provides, and helpers.

export interface BrokerFixture {
  broker: Broker
  /** A second instance on the same backend (another Fastify instance), when the broker has one. */
  other?: Broker
  /** The history bound the broker was made with (memory `history`, Redis `retention`). */
  history: number
  cleanup (): Promise<void>
}

export type ContractSetup = (t: Test) => Promise<BrokerFixture & { instances: Broker[] }>

/** The cursor's epoch syntax: every epoch a broker gives must fit it. */
export const EPOCH = /^[A-Za-z0-9_-]{1,64}$/

/** A fixture per test, cleaned up at its end; `instances` holds both instances when there are two. */
export function contractSetup (factory: () => Promise<BrokerFixture>): ContractSetup {
  return async (t) => {
    const fixture = await factory()
    t.teardown(() => fixture.cleanup())
    return { ...fixture, instances: fixture.other === undefined ? [fixture.broker] : [fixture.broker, fixture.other] }
  }
}

/** Publishes `count` events with `data` 1..count, `concurrency` at a time, taking turns between instances. */
export async function publishMany (brokers: Broker[], topic: string, count: number, concurrency = 8): Promise<BrokerEvent[]> {
  const published: BrokerEvent[] = []
  let next = 1
  const worker = async (): Promise<void> => {
    while (next <= count) {
      const n = next++
      published.push(await brokers[n % brokers.length].publish(topic, { data: String(n) }))
    }
  }
  await Promise.all(range(1, concurrency).map(worker))
  return published
}
