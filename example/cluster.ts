// Several instances sharing one Redis: a publish on any instance reaches the streams of all, and a
// client may reconnect to any of them and resume from its Last-Event-ID.
//
//   npx tsx example/cluster.ts                      three instances on ports 3001, 3002, 3003
//   curl -N http://127.0.0.1:3002/news              a stream on one instance
//   curl -X POST http://127.0.0.1:3001/news -H 'content-type: application/json' -d '{"text":"hi"}'
//
// REDIS_URL (default redis://127.0.0.1:6379) and PORTS (default "3001,3002,3003") configure it.
import Fastify, { type FastifyInstance } from 'fastify'
import { ssePlugin, topics } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'

export async function buildInstance (name: string, redisUrl: string, { prefix = 'sse:', logger = true } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger })
  await app.register(ssePlugin, { broker: redisBroker({ url: redisUrl }, { prefix }) })
  app.get('/news', { chunk: true, handler: topics(() => ['news']) })
  app.post<{ Body: { text: string } }>('/news', {
    schema: { body: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 1000 } } } }
  }, async (request) => ({ position: await app.sse.publish('news', { text: request.body.text, via: name }) }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const ports = (process.env.PORTS ?? '3001,3002,3003').split(',').map(Number)
  const instances = await Promise.all(ports.map(async (port) => {
    const app = await buildInstance(`instance-${port}`, redisUrl)
    await app.listen({ port, host: '127.0.0.1' })
    return app
  }))
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((app) => app.close()))
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
