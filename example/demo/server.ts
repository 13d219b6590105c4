// The live demo (`npm start`): a clock fed by the ping stream and a chat room on a topic stream,
// on one page.   npm start   then open http://127.0.0.1:3000 in two windows.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { ssePlugin } from '../../lib/index.js'
import { Ping } from '../ping.js'
import { chatStreams } from './chat.js'
import { messagesRoute } from './messages.js'
import { loadPage } from './page.js'

/** The demo app, not listening yet (tests start it on port 0). */
export async function buildDemo (options: FastifyServerOptions = { logger: false }): Promise<FastifyInstance> {
  const app = Fastify(options)
  await app.register(ssePlugin)
  const page = await loadPage()
  const chat = chatStreams()

  app.get('/', (_request, reply) => {
    return reply.type('text/html; charset=utf-8').header('content-security-policy', page.csp).send(page.html)
  })
  app.get('/favicon.ico', (_request, reply) => reply.code(204).send())
  app.get('/ping', { chunk: true, handler: Ping })
  // retry: a cut stream comes back after a second rather than the browser's default three.
  app.get('/chat', { chunk: { retry: 1000 }, handler: chat.handler })
  messagesRoute(app)
  // Ends the open chat streams, not the server: the pages reconnect with Last-Event-ID and resume.
  // Unauthenticated on purpose: the demo listens on loopback only.
  app.post('/admin/cut', async () => ({ cut: chat.cut(app.sse) }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildDemo({ logger: { level: 'warn' } })
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Demo at ${address}  (open it in two windows)`)
  // Ctrl-C: streams are told when to come back, then the server closes.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
