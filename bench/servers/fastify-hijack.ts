// Fastify with a hijacked reply and `res.write`: the framework's own cost on top of node:http. It
// opens a stream as the plugin's relay does: the same head, then an id-only block (as long as the
// plugin's first cursor), both in one write (node sends a head not yet flushed with the first chunk).
import Fastify from 'fastify'
import { burstOf, listenFastify, ResponseSet } from './shared.js'
import type { StartServer } from './types.js'

const HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }
const FIRST_ID = `id: t=${'x'.repeat(13)}.1\n\n`

const start: StartServer = async () => {
  const streams = new ResponseSet()
  const app = Fastify()
  app.get('/t', (_request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, HEADERS)
    reply.raw.write(FIRST_ID)
    streams.hold(reply.raw)
  })
  const port = await listenFastify(app)
  const publish = (data: string): void => streams.publish(data)
  return { port, connections: () => streams.size, burst: burstOf(publish), publish, close: () => app.close() }
}
export default start
