import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import type { Broker } from '../../lib/broker/types.js'
import { redisBroker, type RedisBrokerOptions } from '../../lib/redis/index.js'
import { topicKeys } from '../../lib/redis/keys.js'
import { brokerContract } from './contract.js'
import { frozenPathCatchesUp, Recorder, range } from './recorder.js'
import { fixture, listeningPair, newPrefix, removeKeys, url, whenRedis } from './redis-fixture.js'
import { TcpProxy } from './tcp-proxy.js'
import { freePort as closedPort } from '../helpers/free-port.js'

/** A broker behind a proxy that can cut it off from Redis, another one connected directly, and a listener on the first. */
async function cutOff (t: Test, options: RedisBrokerOptions = {}): Promise<{ proxy: TcpProxy, behind: Broker, direct: Broker, recorder: Recorder }> {
  const target = new URL(url)
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 6379) })
  t.teardown(() => proxy.close())
  const { make } = await fixture(t)
  const behind = make({ url: proxy.url }, options)
  const recorder = new Recorder()
  await behind.listen('room', recorder)
  return { proxy, behind, direct: make(), recorder }
}

/** A client template whose name the broker's connections inherit (`<name>:sse-subscriber`). */
function namedClient (t: Test): { client: Redis, name: string } {
  const name = `sse-test-${randomUUID().slice(0, 8)}`
  const client = new Redis(url, { lazyConnect: true, connectionName: name })
  t.teardown(() => client.disconnect())
  return { client, name }
}

async function killConnection (admin: Redis, name: string): Promise<boolean> {
  const list = await admin.client('LIST') as string
  const line = list.split('\n').find((entry) => entry.includes(` name=${name} `))
  const id = line?.match(/^id=(\d+) /)?.[1]
  if (id === undefined) return false
  await admin.client('KILL', 'ID', id)
  return true
}

/** Tries `call` until it resolves: a connection that was down comes back on its own schedule. */
async function eventually<T> (call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (attempt === 200) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

function redisTests (): void {
  brokerContract(t, 'redis', async () => {
    const prefix = newPrefix()
    const broker = redisBroker({ url }, { prefix, retention: 500 })
    const other = redisBroker({ url }, { prefix, retention: 500 })
    return {
      broker,
      other,
      history: 500,
      async cleanup () {
        await Promise.all([broker.close(), other.close()])
        await removeKeys(prefix)
      }
    }
  })

  t.test('redis: the client passed in is used as a template and never quit', async (t) => {
    const { prefix } = await fixture(t)
    const client = new Redis(url)
    t.teardown(() => client.disconnect())
    const broker = redisBroker({ client }, { prefix })
    const recorder = new Recorder()
    await broker.listen('room', recorder)
    await broker.publish('room', { data: 'x' })
    await recorder.untilOffset(1)
    await broker.close()
    t.equal(client.status, 'ready')
    t.equal(await client.ping(), 'PONG')
    t.equal(await client.exists(topicKeys(prefix, 'room').keys[0]), 1, 'and shares the data')
  })

  t.test('redis: a client with keyPrefix is refused', async (t) => {
    const client = new Redis(url, { lazyConnect: true, keyPrefix: 'app:' })
    t.teardown(() => client.disconnect())
    t.throws(() => redisBroker({ client }), { code: 'SSE_ERR_REDIS_KEY_PREFIX' })
  })

  t.test('redis: keys carry the prefix and one hash tag per topic; TTLs apply', async (t) => {
    const { prefix, admin, make } = await fixture(t)
    const broker = make(undefined, { topicTtl: 60_000, tombstoneTtl: 30_000 })
    await broker.publish('a:{b}', { data: 'x' })
    const { keys: [meta, stream, tombstone], channel } = topicKeys(prefix, 'a:{b}')
    t.equal(meta, `${prefix}{a%3A%7Bb%7D}:meta`)
    t.equal(channel, `${prefix}{a%3A%7Bb%7D}:events`)
    t.same(await admin.hgetall(meta), { epoch: (await broker.read('a:{b}')).epoch, head: '1' })
    for (const key of [meta, stream]) {
      const ttl = await admin.pttl(key)
      t.ok(ttl > 0 && ttl <= 60_000, `${key} expires with the topic's TTL`)
    }
    await broker.closeTopic('a:{b}', { data: 'bye' })
    for (const key of [meta, stream, tombstone]) {
      const ttl = await admin.pttl(key)
      t.ok(ttl > 0 && ttl <= 30_000, `${key} expires with the tombstone's TTL`)
    }

    const forever = make(undefined, { topicTtl: 0, tombstoneTtl: 0 })
    await forever.publish('kept', { data: 'x' })
    await forever.closeTopic('kept')
    for (const key of topicKeys(prefix, 'kept').keys) t.equal(await admin.pttl(key), -1, `${key} has no TTL`)
  })

  t.test('redis: the stream is trimmed to about `retention` events', async (t) => {
    const { prefix, admin, make } = await fixture(t)
    const broker = make(undefined, { retention: 10 })
    for (let n = 1; n <= 300; n++) await broker.publish('room', { data: String(n) })
    const length = await admin.xlen(topicKeys(prefix, 'room').keys[1])
    t.ok(length >= 10 && length < 300, `the stream holds ${length} entries`)
    const { epoch } = await broker.read('room')
    t.match(await broker.read('room', { epoch, offset: 1 }), { complete: false, events: [] })
    t.same((await broker.read('room', { epoch, offset: 290 })).events.map((event) => event.offset), range(291, 300))
  })

  t.test('redis: the scripts are loaded again after SCRIPT FLUSH', async (t) => {
    const { admin, make } = await fixture(t)
    const broker = make()
    await broker.publish('room', { data: '1' })
    await admin.script('FLUSH')
    t.equal((await broker.publish('room', { data: '2' })).offset, 2)
  })

  t.test('redis: CLIENT KILL of the subscriber during publishes from another instance loses nothing', async (t) => {
    const { admin, make } = await fixture(t)
    const { client, name } = namedClient(t)
    const listening = make({ client })
    const publishing = make()
    const recorder = new Recorder()
    await listening.listen('room', recorder)
    const count = 800
    for (let n = 1; n <= count; n++) {
      await publishing.publish('room', { data: String(n) })
      if (n % 200 === 0) {
        // Killed while caught up, so that every kill hits a live subscriber.
        await recorder.untilOffset(n - 100)
        t.ok(await killConnection(admin, `${name}:sse-subscriber`), `killed at ${n}`)
      }
    }
    await recorder.untilOffset(count)
    t.same(recorder.offsets, range(1, count), 'every offset exactly once, in order')
  })

  t.test('redis: while Redis is unreachable calls fail fast; listeners stay and catch up', async (t) => {
    const { proxy, behind, direct, recorder } = await cutOff(t)
    await direct.publish('room', { data: '1' })
    await recorder.untilOffset(1)

    proxy.cut()
    await t.rejects(behind.publish('room', { data: 'lost' }), { code: 'SSE_ERR_PUBLISH_FAILED' })
    await t.rejects(behind.publish('room', { data: 'lost' }), { code: 'SSE_ERR_PUBLISH_FAILED' })
    await t.rejects(behind.read('room'), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
    await t.rejects(behind.listen('hall', new Recorder()), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
    await t.rejects(behind.closeTopic('hall'), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
    for (let n = 2; n <= 50; n++) await direct.publish('room', { data: String(n) })
    proxy.restore()

    await recorder.untilOffset(50)
    t.same(recorder.offsets, range(1, 50), 'what was published meanwhile came once, in order')
    const back = await eventually(() => behind.publish('room', { data: 'back' }))
    await recorder.untilOffset(back.offset)
    t.same(recorder.offsets, range(1, back.offset), 'the listener goes on')
    t.same((await direct.read('room', { epoch: back.epoch, offset: 0 })).events.map((event) => event.data),
      [...range(1, 50).map(String), 'back'], 'the failed publishes left nothing behind')
  })

  t.test('redis: a topic closed while a listener was cut off: it gets the last events, then the close', async (t) => {
    const { proxy, direct, recorder } = await cutOff(t)
    proxy.cut()
    await direct.publish('room', { data: '1' })
    await direct.publish('room', { data: '2' })
    await direct.closeTopic('room', { event: 'end', data: 'bye' })
    proxy.restore()
    await recorder.untilClosed()
    t.same(recorder.offsets, [1, 2])
    t.same(recorder.finals, [{ event: 'end', data: 'bye' }])
  })

  t.test('redis: a subscriber path that goes silent is noticed by the heartbeat; nothing is lost', async (t) => {
    const { proxy, direct, recorder } = await cutOff(t, { heartbeatInterval: 50, commandTimeout: 200 })
    await direct.publish('room', { data: '1' })
    await recorder.untilOffset(1)

    // No FIN, no RST: only an unanswered PING can tell. The reconnect goes through (only this path froze).
    await frozenPathCatchesUp(t, direct, recorder, () => proxy.freeze('sse-subscriber'), 'the subscriber connection froze')
  })

  t.test('redis: a broker pointed at a closed port fails fast', async (t) => {
    const { make } = await fixture(t)
    const broker = make({ url: `redis://127.0.0.1:${await closedPort()}` })
    await t.rejects(broker.publish('room', { data: 'x' }), { code: 'SSE_ERR_PUBLISH_FAILED' })
    await t.rejects(broker.listen('room', new Recorder()), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
    await t.rejects(broker.read('room'), { code: 'SSE_ERR_BROKER_UNAVAILABLE' })
  })

  t.test('redis: a live event whose offset skips is filled from the stream first', async (t) => {
    const { prefix, admin, publishing, recorder } = await listeningPair(t)
    await publishing.publish('room', { data: '1' })
    await recorder.untilOffset(1)
    // An event whose Pub/Sub message got lost: in the stream, never published.
    const [meta, stream] = topicKeys(prefix, 'room').keys
    await admin.hset(meta, 'head', 2)
    await admin.xadd(stream, '2-0', 'p', ':lost')
    await publishing.publish('room', { data: '3' })
    await recorder.untilOffset(3)
    t.same(recorder.events.map((event) => [event.offset, event.data]), [[1, '1'], [2, 'lost'], [3, '3']])
  })

  t.test('redis: a topic whose data was lost starts a new epoch; listeners follow it', async (t) => {
    const { prefix, admin, publishing, recorder } = await listeningPair(t)
    const first = await publishing.publish('room', { data: '1' })
    await publishing.publish('room', { data: '2' })
    await recorder.untilOffset(2)
    await admin.del(...topicKeys(prefix, 'room').keys)
    const renewed = await publishing.publish('room', { data: 'new' })
    t.not(renewed.epoch, first.epoch)
    await recorder.until(() => recorder.events.some((event) => event.epoch === renewed.epoch), 'the new epoch')
    t.same(recorder.events.map((event) => [event.epoch, event.offset]), [[first.epoch, 1], [first.epoch, 2], [renewed.epoch, 1]])
    t.match(await publishing.read('room', { epoch: first.epoch, offset: 2 }), { epoch: renewed.epoch, complete: false })
  })
}

await whenRedis(t, redisTests)
