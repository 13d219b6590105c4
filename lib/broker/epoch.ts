import { randomBytes } from 'node:crypto'

// An epoch names one incarnation of a topic. A random prefix per process and a counter make every
// epoch unique across instances and restarts without a random draw per topic; the result always fits
// the cursor's /^[A-Za-z0-9_-]{1,64}$/ (12 + at most 11 characters).
const processPrefix = randomBytes(9).toString('base64url')
let counter = 0

export function newEpoch (): string {
  counter += 1
  return processPrefix + counter.toString(36)
}
