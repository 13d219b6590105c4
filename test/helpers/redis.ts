import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import type { Broker } from '../../lib/index.js'
import { redisBroker } from '../../lib/redis/index.js'
import type { RedisBrokerOptions } from '../../lib/redis/options.js'

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Whether the Redis at REDIS_URL answers; with SSE_REQUIRE_REDIS=1 a missing Redis fails instead of skipping. */
export async function redisAvailable (t: Test): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  let up = false
  try {
    await probe.connect()
    up = await probe.ping() === 'PONG'
  } catch {
    up = false
  } finally {
    probe.disconnect()
  }
  if (!up && process.env.SSE_REQUIRE_REDIS === '1') t.fail(`SSE_REQUIRE_REDIS=1 but no Redis at ${redisUrl}`)
  return up
}

/** Brokers on one fresh key prefix (one test's "cluster"), their keys removed when the test ends. */
export function redisCluster (t: Test, options: RedisBrokerOptions = {}): () => Broker {
  const prefix = `sse-test:${randomUUID()}:`
  const brokers: Broker[] = []
  t.teardown(async () => {
    await Promise.all(brokers.map((broker) => broker.close()))
    const admin = new Redis(redisUrl)
    const keys = await admin.keys(`${prefix}*`)
    if (keys.length > 0) await admin.del(...keys)
    await admin.quit()
  })
  return () => {
    const broker = redisBroker({ url: redisUrl }, { ...options, prefix })
    brokers.push(broker)
    return broker
  }
}
