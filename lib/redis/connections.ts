import { Redis, type RedisOptions } from 'ioredis'
import { InvalidOptionError, RedisKeyPrefixError } from '../errors.js'

/** Where the broker connects: a URL, or a client whose options its own connections copy. */
export type RedisSource = { url: string } | { client: Redis }

/** The keys of a RedisSource, which may also hold the broker's options. */
export const SOURCE_KEYS = ['url', 'client'] as const

/** The broker's own connections: it quits them on close, never the client it was given. */
export interface BrokerConnections {
  commands: Redis
  subscriber: Redis
}

/** Whatever the user's client does, the broker's connections fail fast instead of queueing. */
const FAIL_FAST: Partial<RedisOptions> = {
  lazyConnect: false,
  // A call made while the connection is down rejects at once...
  enableOfflineQueue: false,
  // ...so do the commands in flight when it drops...
  maxRetriesPerRequest: 0,
  // ...and they are never sent again (a publish could run twice).
  autoResendUnfulfilledCommands: false,
  // The broker subscribes again itself, then catches up.
  autoResubscribe: false
}

export function openConnections (source: RedisSource, commandTimeout: number): BrokerConnections {
  const { url, client } = source as { url?: string, client?: Redis }
  const name = client?.options.connectionName
  const open = (role: string): Redis => {
    const options = { ...FAIL_FAST, commandTimeout, connectionName: name === undefined ? role : `${name}:${role}` }
    const redis = client !== undefined ? client.duplicate(options) : new Redis(url!, options)
    // Failures surface as rejected calls and reconnects; unhandled, ioredis would print each one.
    redis.on('error', () => {})
    return redis
  }
  return { commands: open('sse-commands'), subscriber: open('sse-subscriber') }
}

export function checkSource (source: RedisSource): void {
  const { url, client } = (source ?? {}) as { url?: unknown, client?: Redis }
  if (client !== undefined && url !== undefined) throw new InvalidOptionError('url', 'redisBroker takes { url } or { client }, not both')
  if (client !== undefined) {
    // ioredis prefixes keys with `keyPrefix` but not Pub/Sub channels: the broker's own `prefix` does both.
    if (client.options.keyPrefix) throw new RedisKeyPrefixError()
    return
  }
  if (typeof url !== 'string') throw new InvalidOptionError('url', 'redisBroker takes { url } or { client }')
}

const SETTLED = ['ready', 'error', 'close', 'end'] as const

/**
 * Resolves once a connection's first attempt is over, whatever its outcome: calls made at start-up
 * wait for it; afterwards, while the connection is down, they fail at once.
 */
export function firstAttempt (redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const settled = (): void => {
      for (const event of SETTLED) redis.off(event, settled)
      resolve()
    }
    for (const event of SETTLED) redis.on(event, settled)
  })
}

/** Closes a connection the broker opened: politely when it is up, at once otherwise. */
export async function closeConnection (redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // It dropped meanwhile: disconnect below.
    }
  }
  redis.disconnect()
}
