// Fastify with a hijacked reply that only sends its head (`writeHead` + `flushHeaders`): the
// cheapest stream a Fastify route can open, as an outside harness writes it. `fastify-hijack` opens
// as the relay does (its head and a first id); this one sends no first id.
import Fastify from 'fastify'
import { burstOf, listenFastify, openResponse, ResponseSet } from './shared.js'
import type { StartServer } from './types.js'

const start: StartServer = async () => {
  const streams = new ResponseSet()
  const app = Fastify()
  app.get('/t', (_request, reply) => {
    reply.hijack()
    openResponse(reply.raw)
    streams.hold(reply.raw)
  })
  const port = await listenFastify(app)
  const publish = (data: string): void => streams.publish(data)
  return { port, connections: () => streams.size, burst: burstOf(publish), publish, close: () => app.close() }
}
export default start
