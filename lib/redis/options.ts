import { integerOption } from '../broker/validate.js'
import { refuseUnknownKeys } from '../check-keys.js'
import { InvalidOptionError } from '../errors.js'
import { SOURCE_KEYS } from './connections.js'

export interface RedisBrokerOptions {
  /** Starts every key and channel (default `sse:`). No braces: each topic's hash tag is its own. */
  prefix?: string
  /** Events kept per topic, as the stream's `MAXLEN ~` (default 1000; Redis trims whole nodes, so a few more stay). */
  retention?: number
  /** ms a topic's keys live after its last publish (default one day; 0: forever). */
  topicTtl?: number
  /** ms a closed topic's tombstone and history live (default one day; 0: forever). */
  tombstoneTtl?: number
  /**
   * ms a command may take before it is given up and the call rejects (default 1000). Timed on the
   * event loop: a loop kept busy longer than this fails a call whose reply was already in.
   */
  commandTimeout?: number
  /**
   * ms between PINGs on each subscriber connection (one, or one per master on a cluster); one without
   * a reply within `commandTimeout` drops the connection, which then reconnects and catches up
   * (default 5000; 0: none).
   */
  heartbeatInterval?: number
}

const OPTION_KEYS = ['prefix', 'retention', 'topicTtl', 'tombstoneTtl', 'commandTimeout', 'heartbeatInterval'] as const satisfies ReadonlyArray<keyof RedisBrokerOptions>

const DAY = 86_400_000

/**
 * The settings of `redisBroker(source, options)`. Options may stand beside the connection in `source`
 * or in `options`; a key either object does not know, or one given in both, is refused, so a
 * misplaced or misspelt option is never silently ignored.
 */
export function resolveOptions (source: object, second: RedisBrokerOptions = {}): Required<RedisBrokerOptions> {
  refuseUnknownKeys(source, [...SOURCE_KEYS, ...OPTION_KEYS], 'redisBroker')
  refuseUnknownKeys(second, OPTION_KEYS, 'redisBroker options')
  const beside = source as RedisBrokerOptions
  const options: Record<string, unknown> = {}
  for (const key of OPTION_KEYS) {
    if (beside[key] !== undefined && second[key] !== undefined) {
      throw new InvalidOptionError(key, 'given both beside the connection and in the options')
    }
    options[key] = beside[key] ?? second[key]
  }
  return settingsOf(options as RedisBrokerOptions)
}

function settingsOf (options: RedisBrokerOptions): Required<RedisBrokerOptions> {
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
