// One app instance of the fault run (test/fault.test.ts), as a child process of its own so that the
// test can SIGKILL it and start it again. Run with `node --import tsx test/helpers/fault-instance.ts`
// from the repository root, configured by the environment:
//
//   REDIS_URL   the Redis to use (in the fault run: a TCP proxy in front of it, which the test cuts)
//   PREFIX      the key prefix shared by the run's instances
//   NAME        the instance's name: its Redis connections are named `<NAME>:sse-commands` and
//               `<NAME>:sse-subscriber`, so the test can CLIENT KILL its own connections and no others
//   PORT        the port to listen on (0: any; a restarted instance gets its old port back)
//   TOPIC       the topic (default 'fault')
//   MAILBOX_LIMIT  the streams' mailbox.limit (default the plugin's, 1000)
//
// Routes: GET /feed streams the topic (topics()); POST /publish { n } publishes { n } there and
// answers { position }, or a 503 { code, message } when the publish rejected (its outcome may then be
// unknown: the script may have run and the reply been lost); GET /health answers { name, pid }.
// It prints `LISTENING <url>` once it listens. It does nothing to survive: an uncaught exception
// ends it, and the test sees the exit.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { ssePlugin, topics } from '../../lib/index.js'
import { redisBroker } from '../../lib/redis/index.js'

const env = process.env
const name = env.NAME ?? `fault-${process.pid}`
const topic = env.TOPIC ?? 'fault'
// Never connected itself (lazyConnect): the broker's own connections copy its options, its name included.
const client = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, connectionName: name })
const broker = redisBroker({ client }, { prefix: env.PREFIX ?? 'sse-fault:', retention: 1_000_000, commandTimeout: 1000, heartbeatInterval: 1000 })

const app = Fastify({ logger: { level: 'warn' } })
const mailbox = env.MAILBOX_LIMIT === undefined ? {} : { mailbox: { limit: Number(env.MAILBOX_LIMIT) } }
await app.register(ssePlugin, { broker, heartbeat: 5000, shutdownTimeout: 1000, ...mailbox })
app.get('/feed', { chunk: true, handler: topics(() => [topic]) })
app.post<{ Body: { n: number } }>('/publish', {
  schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } }
}, async (request, reply) => {
  try {
    return { position: await app.sse.publish(topic, { n: request.body.n }) }
  } catch (error) {
    const { code, message } = error as { code?: string, message?: string }
    return reply.code(503).send({ code, message })
  }
})
app.get('/health', async () => ({ name, pid: process.pid, connections: app.sse.connections }))

const url = await app.listen({ port: Number(env.PORT ?? 0), host: '127.0.0.1' })
process.stdout.write(`LISTENING ${url}\n`)

const stop = async (): Promise<void> => {
  await app.close()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
// The parent went away (its pipe closed): do not outlive it.
process.stdin.on('end', () => { void stop() })
process.stdin.resume()
