// A resumable generation (docs/RECIPES.md): POST /generations starts a model's answer and returns its
// id; GET /generations/:id streams it. The answer runs on the server whatever its readers do: each
// token is published on the generation's own topic, so a reader that opens late gets it from the
// first token, one that leaves and comes back (to any instance, on Redis) gets the rest exactly once
// by its Last-Event-ID, and once the answer is done a reconnect gets 204.
//
//   npx tsx example/llm.ts                 the app on :3000, a fake model on :4001 (no network)
//   curl -s localhost:3000/generations -H 'content-type: application/json' -d '{"prompt":"hi","maxTokens":40}'
//     {"id":"<id>","stream":"/generations/<id>"}
//   curl -N localhost:3000/generations/<id>                        from the first token, live
//   curl -N localhost:3000/generations/<id> -H 'Last-Event-ID: <the last id: line you saw>'
//
// BROKER=redis puts the topics on the Redis at REDIS_URL: run two (PORT=3000 and PORT=3001
// UPSTREAM=http://127.0.0.1:4001/v1/chat/completions) and resume on the other one.
// UPSTREAM points the app at another model API (OPENAI_API_KEY is sent as a bearer token).
import Fastify, { type FastifyInstance } from 'fastify'
import { type Broker, memoryBroker, ssePlugin, topics } from '../lib/index.js'
import { redisBroker } from '../lib/redis/index.js'
import { startFakeModel } from './llm/fake-model.js'
import { Generations, topicOf } from './llm/generations.js'

export { startFakeModel } from './llm/fake-model.js'
export { topicOf } from './llm/generations.js'

export interface LlmAppOptions {
  /** The model API's URL (an OpenAI-style chat completions endpoint). */
  upstream: string
  /** Default: a memory broker keeping 4096 events per topic (the longest answer must fit). */
  broker?: Broker
  headers?: Record<string, string>
  logger?: boolean
  heartbeat?: number | false
}

const MAX_TOKENS = 4096

/** The app, and its generations (`generations.running`: in flight on this instance, for a health check). */
export async function buildLlmApp (options: LlmAppOptions): Promise<{ app: FastifyInstance, generations: Generations }> {
  const app = Fastify({ logger: options.logger ?? false })
  const generations = new Generations(app, options.upstream, options.headers)
  // Before the plugin's own hook: the topics get their `event: error` while their streams are open.
  app.addHook('preClose', () => generations.abortAll())
  // A replay must cover a whole answer (a late reader starts at token 1): history >= max tokens.
  await app.register(ssePlugin, { broker: options.broker ?? memoryBroker({ history: MAX_TOKENS }), heartbeat: options.heartbeat })

  app.post<{ Body: { prompt: string, maxTokens?: number } }>('/generations', {
    schema: {
      body: {
        type: 'object',
        required: ['prompt'],
        additionalProperties: false,
        properties: { prompt: { type: 'string', maxLength: 10_000 }, maxTokens: { type: 'integer', minimum: 1, maximum: MAX_TOKENS } }
      }
    }
  }, async (request, reply) => {
    // A real app checks who may start one here, and stores the id with the conversation.
    const id = await generations.start({ prompt: request.body.prompt, maxTokens: request.body.maxTokens ?? 256 })
    return reply.code(202).send({ id, stream: `/generations/${id}` })
  })

  app.get<{ Params: { id: string } }>('/generations/:id', {
    // A real app also checks here that the reader may see this generation (a 403 before the stream opens).
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } } } },
    chunk: true,
    // No cursor: from the topic's start. A cursor: exactly what came after it. Closed and caught up: 204.
    handler: topics((request) => [topicOf(request.params.id)], { from: 'start' })
  })
  return { app, generations }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const model = process.env.UPSTREAM === undefined ? await startFakeModel({}, 4001) : undefined
  const upstream = process.env.UPSTREAM ?? model!.url
  const broker = process.env.BROKER === 'redis'
    ? redisBroker({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, { retention: MAX_TOKENS, topicTtl: 3_600_000, tombstoneTtl: 3_600_000 })
    : undefined
  const headers = process.env.OPENAI_API_KEY === undefined ? undefined : { authorization: `Bearer ${process.env.OPENAI_API_KEY}` }
  const { app } = await buildLlmApp({ upstream, broker, headers, logger: true })
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  const stop = async (): Promise<void> => {
    await app.close() // aborts the generations in flight: their readers get `event: error`
    await model?.close()
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stop().catch((error) => app.log.error(error)) })
}
