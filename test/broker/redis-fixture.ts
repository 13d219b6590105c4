import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { Redis } from 'ioredis'
import type { Broker } from '../../lib/broker/types.js'
import { redisBroker, type RedisBrokerOptions, type RedisSource } from '../../lib/redis/index.js'
import { Recorder } from './recorder.js'

// What the Redis broker's tests share: the server, a key prefix per test, brokers closed at the end.

export const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function reachable (): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return await probe.ping() === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export function newPrefix (): string {
  return `sse-test:${randomUUID()}:`
}

export async function removeKeys (prefix: string): Promise<void> {
  const admin = new Redis(url)
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  await admin.quit()
}

/** A fresh key prefix per test; its brokers are closed and its keys removed at the end. */
export async function fixture (t: Test, options: RedisBrokerOptions = {}): Promise<{
  prefix: string
  admin: Redis
  make: (source?: RedisSource, extra?: RedisBrokerOptions) => Broker
}> {
  const prefix = newPrefix()
  const admin = new Redis(url)
  const brokers: Broker[] = []
  t.teardown(async () => {
    await Promise.all(brokers.map((broker) => broker.close()))
    await admin.quit()
    await removeKeys(prefix)
  })
  const make = (source: RedisSource = { url }, extra: RedisBrokerOptions = {}): Broker => {
    const broker = redisBroker(source, { prefix, ...options, ...extra })
    brokers.push(broker)
    return broker
  }
  return { prefix, admin, make }
}

/** Two instances; the first listens to `room`. */
export async function listeningPair (t: Test): Promise<{ prefix: string, admin: Redis, listening: Broker, publishing: Broker, recorder: Recorder }> {
  const { prefix, admin, make } = await fixture(t)
  const listening = make()
  const recorder = new Recorder()
  await listening.listen('room', recorder)
  return { prefix, admin, listening, publishing: make(), recorder }
}

/** Runs `tests` when Redis answers; skips them otherwise, unless SSE_REQUIRE_REDIS=1 asks to fail. */
export async function whenRedis (t: Test, tests: () => void): Promise<void> {
  if (await reachable()) {
    tests()
  } else if (process.env.SSE_REQUIRE_REDIS === '1') {
    t.fail(`Redis is unreachable at ${url}, and SSE_REQUIRE_REDIS=1 requires it`)
  } else {
    t.plan(0, `Redis is unreachable at ${url} (set SSE_REQUIRE_REDIS=1 to fail instead)`)
  }
}
