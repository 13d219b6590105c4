// The run's own corner of Redis: a random key prefix, checked reachable first and deleted at the end,
// so runs never collide with each other, with the tests or with real data.

import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export function runPrefix (): string {
  return `bench-sse-${randomBytes(6).toString('hex')}:`
}

function connect (url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, commandTimeout: 5_000 })
  redis.on('error', () => {}) // failures surface as rejected calls
  return redis
}

/** The Redis version, or a clear error when nothing answers at `url`. */
export async function checkRedis (url: string): Promise<string> {
  const redis = connect(url)
  try {
    await redis.connect()
    const info = await redis.info('server')
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  } catch (error) {
    throw new Error(`Redis not reachable at ${url} (set REDIS_URL): ${(error as Error).message}`)
  } finally {
    redis.disconnect()
  }
}

/** Deletes every key under `prefix` (SCAN, bounded in steps); returns how many. */
export async function deletePrefix (url: string, prefix: string): Promise<number> {
  const redis = connect(url)
  let deleted = 0
  try {
    await redis.connect()
    let cursor = '0'
    for (let step = 0; step < 10_000; step++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) deleted += await redis.unlink(...keys)
      cursor = next
      if (cursor === '0') break
    }
    return deleted
  } finally {
    redis.disconnect()
  }
}
