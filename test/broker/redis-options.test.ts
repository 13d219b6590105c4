import t from 'tap'
import { Redis } from 'ioredis'
import { redisBroker, type RedisBrokerOptions, type RedisSource } from '../../lib/redis/index.js'
import { topicKeys } from '../../lib/redis/keys.js'
import { fixture, url, whenRedis } from './redis-fixture.js'

// The Redis broker's options: where they may stand, and what is refused.

const code = 'SSE_ERR_INVALID_OPTION'

function optionTests (): void {
  t.test('redis: options are validated before any connection opens', async (t) => {
    t.throws(() => redisBroker({} as RedisSource), { code })
    t.throws(() => redisBroker({ url }, { prefix: 'a{b}:' }), { code })
    t.throws(() => redisBroker({ url }, { prefix: 3 as unknown as string }), { code })
    t.throws(() => redisBroker({ url }, { retention: 0 }), { code })
    t.throws(() => redisBroker({ url }, { topicTtl: -1 }), { code })
    t.throws(() => redisBroker({ url }, { tombstoneTtl: 1.5 }), { code })
    t.throws(() => redisBroker({ url }, { commandTimeout: 0 }), { code })
    t.throws(() => redisBroker({ url }, { heartbeatInterval: -1 }), { code })
    t.throws(() => redisBroker({ url }, { heartbeatInterval: 2.5 }), { code })
    t.throws(() => redisBroker({ url, retention: 0 }), { code }, 'beside the connection too')
    t.throws(() => redisBroker({ url, prefix: 'a{b}:' }), { code })
  })

  t.test('redis: item 18: options beside the connection are used, { url, prefix } and { client, prefix }', async (t) => {
    const { prefix, admin } = await fixture(t)
    const client = new Redis(url, { lazyConnect: true })
    t.teardown(() => client.disconnect())
    const beside = redisBroker({ url, prefix, retention: 10, topicTtl: 60_000 })
    const mixed = redisBroker({ client, prefix }, { tombstoneTtl: 30_000 })
    t.teardown(() => Promise.all([beside.close(), mixed.close()]))

    for (let n = 1; n <= 300; n++) await beside.publish('room', { data: String(n) })
    const [meta, stream] = topicKeys(prefix, 'room').keys
    t.same((await admin.keys(`${prefix}*`)).sort(), [meta, stream].sort(), 'the keys carry the prefix')
    const length = await admin.xlen(stream)
    t.ok(length >= 10 && length < 300, `retention applies: the stream holds ${length} entries`)
    const ttl = await admin.pttl(meta)
    t.ok(ttl > 0 && ttl <= 60_000, 'topicTtl applies')

    t.equal((await mixed.read('room')).head, 300, 'the client template with a prefix beside it shares the topics')
    await mixed.closeTopic('room')
    const tombstoneTtl = await admin.pttl(topicKeys(prefix, 'room').keys[2])
    t.ok(tombstoneTtl > 0 && tombstoneTtl <= 30_000, 'and an option in the second argument applies with it')
  })

  t.test('redis: item 18: an unknown key is refused beside the connection and in the options; so is a key given in both', async (t) => {
    t.throws(() => redisBroker({ url, prefx: 'x' } as RedisSource), { code, message: /"redisBroker\.prefx"/ }, 'a misspelt option beside the url')
    t.throws(() => redisBroker({ url }, { prefx: 'x' } as RedisBrokerOptions), { code, message: /"redisBroker options\.prefx"/ }, 'in the options')
    t.throws(() => redisBroker({ url, history: 5 } as RedisSource), { code }, 'a memory broker option')
    t.throws(() => redisBroker({ url }, { url } as RedisBrokerOptions), { code }, 'the connection in the options')
    t.throws(() => redisBroker({ url, prefix: 'a:' }, { prefix: 'b:' }), { code, message: /both/ }, 'one option given twice')
    const client = new Redis(url, { lazyConnect: true })
    t.teardown(() => client.disconnect())
    t.throws(() => redisBroker({ url, client } as RedisSource), { code }, 'both a url and a client')
    t.throws(() => redisBroker({ url }, 'sse:' as RedisBrokerOptions), { code }, 'options that are not an object')
  })
}

await whenRedis(t, optionTests)
