import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { PluginContext } from './actor/context.js'
import { HeartbeatScheduler } from './actor/heartbeat.js'
import type { Broker } from './broker/types.js'
import { InvalidHandlerError } from './errors.js'
import type { PluginSettings } from './options.js'
import { startPluginLifecycle } from './plugin-lifecycle.js'
import { sendAwayDelays } from './send-away.js'
import { TopicHub } from './topics/hub.js'
import type { SseStats } from './types.js'

/** What one registration of the plugin holds: shared by its routes, its streams and `app.sse`. */
export interface Runtime extends PluginContext {
  readonly settings: PluginSettings
  readonly broker: Broker
  readonly lifecycle: ReturnType<typeof startPluginLifecycle>
}

export const kRuntime = Symbol.for('fastify-sse-actors.runtime')

export function createRuntime (settings: PluginSettings, broker: Broker, log: FastifyBaseLogger): Runtime {
  const stats: SseStats = { connections: 0, eventsWritten: 0, bytesWritten: 0, messagesDropped: 0, overflowDisconnects: 0, replays: 0, resets: 0 }
  return {
    settings,
    broker,
    lifecycle: startPluginLifecycle(),
    heartbeats: new HeartbeatScheduler(),
    hub: new TopicHub(broker, log),
    stats,
    streams: new Set(),
    byId: new Map(),
    jitteredRetry: sendAwayDelays(settings.base.retry)
  }
}

/** Whether a new stream may open now: the plugin is running (not closing) and below `maxConnections`. */
export function takesNewStream (runtime: Runtime): boolean {
  return runtime.lifecycle.phase() === 'running' && runtime.streams.size < runtime.settings.maxConnections
}

export function runtimeOf (instance: FastifyInstance): Runtime {
  const runtime = (instance as unknown as Record<symbol, Runtime | undefined>)[kRuntime]
  if (runtime === undefined) throw new InvalidHandlerError('register ssePlugin (fastify-sse-actors) before serving a chunked route')
  return runtime
}
