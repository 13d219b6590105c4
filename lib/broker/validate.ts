import { InvalidOptionError, InvalidTopicError } from '../errors.js'
import { isStart } from './epoch.js'
import type { TopicPosition } from './types.js'

// A lone surrogate cannot be URI-encoded, so it could never appear in a cursor or a Redis key.
const LONE_SURROGATE = /\p{Cs}/u

/** Topics are non-empty, well-formed strings: the cursor and the Redis keys URI-encode them. */
export function validateTopic (topic: string): void {
  if (typeof topic !== 'string' || topic === '') throw new InvalidTopicError('a topic is a non-empty string')
  if (LONE_SURROGATE.test(topic)) throw new InvalidTopicError('a topic may not hold a lone surrogate')
}

/** An integer option of at least `min`, or `fallback` when it is not given. */
export function integerOption (name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new InvalidOptionError(name, `must be an integer of at least ${min}, got ${String(value)}`)
  }
  return value as number
}

/** `read`'s page size: a positive integer, or undefined for no cap. */
export function validateLimit (limit: number | undefined): void {
  if (limit !== undefined) integerOption('limit', limit, 0, 1)
}

/**
 * Whether a reader at `after` can be brought exactly to `head` from a history whose oldest retained
 * offset is `oldest` (head + 1 when nothing is retained). No `after` asks for nothing: always true.
 * The start position follows whatever epoch the topic has, as long as nothing was trimmed.
 */
export function canResume (after: TopicPosition | undefined, epoch: string, head: number, oldest: number): boolean {
  if (after === undefined) return true
  if (isStart(after)) return oldest <= 1
  return after.epoch === epoch && after.offset <= head && after.offset + 1 >= oldest
}
