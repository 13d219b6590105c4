// Seed 004's umbrella app: a controller subscribes to a PubSub topic and streams what another app
// broadcasts, until `:done`. The seed's pieces, and ours:
//   PubSub.subscribe(WebDemo.PubSub, "custom_data")   token.subscribe('custom_data') in init
//   receive data -> chunk(conn, "分片数据 #{data}\n")   handle(Published) -> new Event({ data: `分片数据 ${data}` })
//   :done -> leave the loop; PubSub.unsubscribe       app.sse.closeTopic(topic, final): every stream on the
//                                                     topic ends (on every instance), subscriptions released;
//                                                     a reconnect then gets 204, so EventSource stops
//   Demo.send: 1..5 a second apart, then :done        demoSend(app.sse) (POST /api/demo-send)
// A closed topic stays closed (its publish rejects with SSE_ERR_TOPIC_CLOSED) until it is reopened
// (POST /api/reopen), in a new epoch: the name can be used again.
//
//   npx tsx example/pubsub.ts             (CHUNK_INTERVAL=200 for a faster run)
//   curl -N http://127.0.0.1:3000/api/stream-in-umbrella
//   curl -X POST http://127.0.0.1:3000/api/demo-send          in another shell: the seed's Demo.send
//   curl -X POST http://127.0.0.1:3000/api/reopen             before the next run
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import { type ChunkedHandler, Event, isPublished, type Published, type SseDecorator, ssePlugin } from '../lib/index.js'

export const TOPIC = 'custom_data'

export const StreamInUmbrella = {
  async init (token) {
    await token.subscribe(TOPIC) // a closed topic with nothing to replay: the request gets a 204
  },
  handle (msg) {
    if (!isPublished(msg)) return undefined
    // The plugin puts the stream's cursor in the id, so a reconnect resumes where it left.
    return new Event({ data: `分片数据 ${String(msg.event.data)}` })
  }
} satisfies ChunkedHandler<unknown, Published>

/** The seed's Demo.send: five broadcasts `interval` apart, then the end. Its first publish is awaited. */
export async function demoSend (sse: SseDecorator, interval: number): Promise<{ rest: Promise<void> }> {
  await sse.publish(TOPIC, '1') // rejects at once when the topic is closed
  const rest = (async () => {
    for (let item = 2; item <= 5; item++) {
      await sleep(interval)
      await sse.publish(TOPIC, String(item))
    }
    await sleep(interval)
    // :done. What was published before is written first, then this final event.
    await sse.closeTopic(TOPIC, new Event({ event: 'done', data: '收到结束信号' }))
  })()
  return { rest }
}

export async function buildPubSubApp (options: { interval?: number, heartbeat?: number | false } = {}): Promise<FastifyInstance> {
  const interval = options.interval ?? Number(process.env.CHUNK_INTERVAL ?? 1000)
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, { heartbeat: options.heartbeat })
  app.get('/api/stream-in-umbrella', { chunk: true, handler: StreamInUmbrella })
  app.post('/api/demo-send', async (request, reply) => {
    const { rest } = await demoSend(app.sse, interval) // a closed topic: its 410 goes to the caller
    rest.catch((error: unknown) => request.log.error({ err: error }, 'Demo.send failed'))
    return reply.code(202).send({ sending: TOPIC })
  })
  app.post('/api/reopen', async (_request, reply) => {
    await app.sse.reopenTopic(TOPIC)
    return reply.code(204).send()
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildPubSubApp()
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`PubSub stream at ${address}/api/stream-in-umbrella  (then: curl -X POST ${address}/api/demo-send)`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
