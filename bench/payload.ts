// The data of every benchmark event: `<seq> <publish time in ms> ` padded with `x` to a fixed size.
// The sequence number lets the load generator check order and loss; the time, latency.

import { now } from './clock.js'

const PAD = 'x'.repeat(4096)

export function eventData (seq: number, size: number, stamped: boolean): string {
  const head = `${seq} ${stamped ? now().toFixed(3) : '0'} `
  return head.length >= size ? head : head + PAD.slice(0, size - head.length)
}

/** The data of events `from` to `from + count - 1`, built before the clock starts. */
export function eventBatch (from: number, count: number, size: number): string[] {
  const batch: string[] = []
  for (let i = 0; i < count; i++) batch.push(eventData(from + i, size, false))
  return batch
}
