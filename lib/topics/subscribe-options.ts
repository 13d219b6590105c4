import { refuseUnknownKeys } from '../check-keys.js'
import { InvalidOptionError } from '../errors.js'
import type { SubscribeOptions } from '../types.js'

/** Checks `subscribe`'s options (and `topics()`'s): true when the stream starts at the topic's start. */
export function subscribeFromStart (options: SubscribeOptions | undefined): boolean {
  refuseUnknownKeys(options, ['from'], 'subscribe')
  const from = options?.from ?? 'head'
  if (from !== 'head' && from !== 'start') throw new InvalidOptionError('subscribe.from', `must be 'head' or 'start', got ${String(from)}`)
  return from === 'start'
}

/** What `token.subscribe` returns when it subscribed at once: `topics()` then opens without a turn. */
export const SUBSCRIBED: Promise<void> = Promise.resolve()
