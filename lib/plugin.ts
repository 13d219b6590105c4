import type { FastifyInstance, FastifyReply, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { memoryBroker } from './broker/memory.js'
import { resolvePluginOptions, resolveReplyOptions } from './options.js'
import { checkHandler } from './check-handler.js'
import { chunked, isChunkedRoute, openStream, webSocketHandlerOf } from './route.js'
import { declareWsHandler } from './websocket/established.js'
import { routeUpgrades } from './websocket/upgrade.js'
import { guardEventStreamsWhileClosing } from './closing-gate.js'
import { createRuntime, kRuntime, runtimeOf, type Runtime } from './runtime.js'
import { createSseDecorator } from './sse-decorator.js'
import type { ChunkOptions, ReplyChunkOptions, SsePluginOptions, StreamHandler } from './types.js'
import './fastify-types.js'

/** Ends every stream for `fastify.close()`, then cuts those still there after `shutdownTimeout`. */
async function drainStreams (runtime: Runtime): Promise<void> {
  runtime.lifecycle.send({ type: 'close' })
  const streams = [...runtime.streams] as Array<{ endForAppClose (retry: number): Promise<void>, kill (): void }>
  const closing = streams.map((stream) => stream.endForAppClose(runtime.jitteredRetry()))
  let timer: NodeJS.Timeout | undefined
  const timedOut = await Promise.race([
    Promise.allSettled(closing).then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(resolve, runtime.settings.shutdownTimeout, true) })
  ])
  clearTimeout(timer)
  if (timedOut) for (const stream of streams) stream.kill()
  runtime.lifecycle.send({ type: 'drained' })
}

function chunkOptionsOf (chunk: unknown): ChunkOptions | undefined {
  return chunk === true ? undefined : chunk as ChunkOptions
}

async function plugin (app: FastifyInstance, options: SsePluginOptions): Promise<void> {
  const settings = resolvePluginOptions(options)
  const runtime = createRuntime(settings, options.broker ?? memoryBroker(), app.log)
  app.decorate(kRuntime, runtime)
  app.decorate('sse', createSseDecorator(runtime))

  // Async: whatever it refuses (a bad handler or option) comes back as a rejection, through Fastify.
  app.decorateReply('chunk', async function chunk (this: FastifyReply, handler: StreamHandler, chunkOptions?: ReplyChunkOptions) {
    checkHandler(handler)
    const own = runtimeOf(this.server)
    const { options, state } = resolveReplyOptions(own.settings, chunkOptions)
    return openStream(own, this.request, this, handler, options, state)
  })

  // `{ chunk: true, handler }`: the handler object becomes a real route function. This also runs for
  // the HEAD route Fastify generates, whose route function answers headers only.
  app.addHook('onRoute', (route: RouteOptions & { chunk?: unknown }) => {
    if (route.chunk !== undefined && !isChunkedRoute(route.handler)) {
      route.handler = chunked(route.handler as unknown as StreamHandler, chunkOptionsOf(route.chunk))
    }
    const wsHandler = webSocketHandlerOf(route.handler)
    if (wsHandler !== undefined) {
      routeUpgrades(app)
      declareWsHandler(route, wsHandler)
    }
  })

  guardEventStreamsWhileClosing(app, runtime)
  app.addHook('preClose', async () => drainStreams(runtime))
  app.addHook('onClose', async () => runtime.broker.close())
}

export const ssePlugin = fp(plugin, { name: 'fastify-sse-actors', fastify: '5.x' })
