import { randomBytes } from 'node:crypto'
import type { TopicPosition } from './types.js'

// An epoch names one incarnation of a topic. A random prefix per process and a counter make every
// epoch unique across instances and restarts without a random draw per topic; the result always fits
// the cursor's /^[A-Za-z0-9_-]{1,64}$/ (12 + at most 11 characters).
const processPrefix = randomBytes(9).toString('base64url')
let counter = 0

export function newEpoch (): string {
  counter += 1
  return processPrefix + counter.toString(36)
}

/**
 * The epoch of a topic that has none yet (never published, or its data is gone). One character:
 * it can never equal a real epoch (13 or more), and it fits the cursor's epoch syntax.
 */
export const NO_EPOCH = '0'

/** "Before the first event of the topic, whatever its epoch": resumes while offset 1 is retained. */
export const START: Readonly<TopicPosition> = Object.freeze({ epoch: NO_EPOCH, offset: 0 })

export function isStart (position: TopicPosition): boolean {
  return position.epoch === NO_EPOCH && position.offset === 0
}
