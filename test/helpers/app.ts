import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import { ssePlugin, type SsePluginOptions } from '../../lib/index.js'

/** A Fastify app with the plugin, listening on a real loopback port, closed when the test ends. */
export async function startApp (t: Test, pluginOptions: SsePluginOptions = {}, routes?: (app: FastifyInstance) => void | Promise<void>, fastifyOptions: FastifyServerOptions = {}): Promise<{ app: FastifyInstance, url: string }> {
  const app = Fastify({ logger: false, ...fastifyOptions })
  await app.register(ssePlugin, pluginOptions)
  await routes?.(app)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, url }
}
