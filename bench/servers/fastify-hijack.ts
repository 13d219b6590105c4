// Fastify with a hijacked reply and `res.write`: the framework's own cost on top of node:http.
import Fastify from 'fastify'
import { burstOf, listenFastify, ResponseSet } from './shared.js'
import type { StartServer } from './types.js'

const start: StartServer = async () => {
  const streams = new ResponseSet()
  const app = Fastify()
  app.get('/t', (_request, reply) => {
    reply.hijack()
    streams.add(reply.raw)
  })
  const port = await listenFastify(app)
  const publish = (data: string): void => streams.publish(data)
  return { port, connections: () => streams.size, burst: burstOf(publish), publish, close: () => app.close() }
}
export default start
