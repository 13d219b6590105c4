import { integerOption } from '../broker/validate.js'
import { InvalidOptionError } from '../errors.js'

export interface RedisBrokerOptions {
  /** Starts every key and channel (default `sse:`). No braces: each topic's hash tag is its own. */
  prefix?: string
  /** Events kept per topic, as the stream's `MAXLEN ~` (default 1000; Redis trims whole nodes, so a few more stay). */
  retention?: number
  /** ms a topic's keys live after its last publish (default one day; 0: forever). */
  topicTtl?: number
  /** ms a closed topic's tombstone and history live (default one day; 0: forever). */
  tombstoneTtl?: number
  /** ms a command may take before it is given up and the call rejects (default 1000). */
  commandTimeout?: number
  /** ms between PINGs on the subscriber connection; one without a reply within `commandTimeout` drops it (default 5000; 0: none). */
  heartbeatInterval?: number
}

const DAY = 86_400_000

export function resolveOptions (options: RedisBrokerOptions): Required<RedisBrokerOptions> {
  const prefix = options.prefix ?? 'sse:'
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new InvalidOptionError('prefix', 'a string without "{" or "}"')
  }
  return {
    prefix,
    retention: integerOption('retention', options.retention, 1000, 1),
    topicTtl: integerOption('topicTtl', options.topicTtl, DAY, 0),
    tombstoneTtl: integerOption('tombstoneTtl', options.tombstoneTtl, DAY, 0),
    commandTimeout: integerOption('commandTimeout', options.commandTimeout, 1000, 1),
    heartbeatInterval: integerOption('heartbeatInterval', options.heartbeatInterval, 5000, 0)
  }
}
