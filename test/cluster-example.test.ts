import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { request } from 'undici'
import { buildInstance } from '../example/cluster.js'
import { redisAvailable, redisUrl } from './helpers/redis.js'
import { openStream } from './helpers/stream.js'

if (await redisAvailable(t)) {
  t.test('example/cluster.ts: a POST on one instance reaches a stream on another', async (t) => {
    const prefix = `sse-test:${randomUUID()}:`
    t.teardown(async () => {
      const admin = new Redis(redisUrl)
      const keys = await admin.keys(`${prefix}*`)
      if (keys.length > 0) await admin.del(...keys)
      await admin.quit()
    })
    const [a, b] = await Promise.all(['a', 'b'].map((name) => buildInstance(name, redisUrl, { prefix, logger: false })))
    t.teardown(async () => { await Promise.all([a.close(), b.close()]) })
    const [urlA, urlB] = await Promise.all([a.listen({ port: 0, host: '127.0.0.1' }), b.listen({ port: 0, host: '127.0.0.1' })])
    const stream = await openStream(`${urlB}/news`)
    const posted = await request(`${urlA}/news`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) })
    t.match(await posted.body.json(), { position: /^news=[\w-]+\.1$/ })
    const [event] = await stream.waitFor(1)
    t.same(JSON.parse(event.data), { text: 'hi', via: 'a' })
    stream.close()
  })
}
