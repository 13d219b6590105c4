// The seeds' Ping endpoint: a `ping` event every second with the time as JSON.
//   npx tsx example/ping.ts      then      curl -N http://127.0.0.1:3000/ping
import Fastify from 'fastify'
import { type ChunkedHandler, Event, ssePlugin } from '../lib/index.js'

export const Ping = {
  init (token) {
    token.state = { count: 0 }
    token.every(1000, 'ping')
  },
  handle (_msg, token) {
    token.state.count += 1
    return new Event({ event: 'ping', data: { time: new Date().toISOString() } })
  }
} satisfies ChunkedHandler<{ count: number }, 'ping'>

export async function buildPingApp (options: { heartbeat?: number | false } = {}) {
  const app = Fastify({ logger: false })
  await app.register(ssePlugin, options)
  app.get('/ping', { chunk: true, handler: Ping })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildPingApp()
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log(`Ping stream at ${address}/ping  (curl -N ${address}/ping)`)
}
