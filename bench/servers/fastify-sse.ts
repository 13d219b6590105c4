// @fastify/sse: a context per reply kept open with keepAlive(); each event is sent to each context.
import fastifySse from '@fastify/sse'
import Fastify, { type FastifyPluginAsync, type FastifyReply } from 'fastify'
import { burstOf, holdWhileOpen, listenFastify } from './shared.js'
import type { StartServer } from './types.js'

type SseContext = FastifyReply['sse']

const start: StartServer = async () => {
  const contexts = new Set<SseContext>()
  const app = Fastify()
  // The package is CommonJS: its default import is module.exports, the fastify-plugin wrapped function.
  await app.register(fastifySse as unknown as FastifyPluginAsync)
  app.get('/t', { sse: true }, async (_request, reply) => {
    const sse = reply.sse
    sse.keepAlive()
    sse.sendHeaders()
    reply.raw.flushHeaders() // headers are otherwise written with the first event
    // Sends are not awaited (a broadcast as fast as it goes): each one waiting for a drain adds a
    // 'drain' and an 'error' listener, more than the default warning threshold of 10.
    reply.raw.setMaxListeners(0)
    holdWhileOpen(contexts, sse, reply.raw)
  })
  const port = await listenFastify(app)
  const publish = (data: string): void => {
    for (const sse of contexts) sse.send(data).catch(() => {})
  }
  return { port, connections: () => contexts.size, burst: burstOf(publish), publish, close: () => app.close() }
}
export default start
