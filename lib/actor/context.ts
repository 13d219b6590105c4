import type { EventEncoder, Format } from '../protocol/encoders.js'
import type { TopicHub } from '../topics/hub.js'
import type { SseStats } from '../types.js'
import type { HeartbeatScheduler } from './heartbeat.js'

/** A route's stream options, merged with the plugin's once when the route is declared. */
export interface StreamOptions {
  format: Format
  encode: EventEncoder
  contentType: string
  heartbeat: number | false
  retry: number | undefined
  mailboxLimit: number
  overflow: 'disconnect' | 'drop-oldest'
  highWaterMark: number
  drainTimeout: number
}

/** What every stream of one plugin instance shares. */
export interface PluginContext {
  readonly heartbeats: HeartbeatScheduler
  readonly hub: TopicHub
  readonly stats: SseStats
  /** Every stream, opening or open: counts toward maxConnections and is ended on shutdown. */
  readonly streams: Set<{ shutdown (retry: number): Promise<void> }>
  /** Streams whose id was asked for, so `notify` can reach them. */
  readonly byId: Map<string, { notify (msg: unknown): boolean }>
  /** A `retry:` value spread over time, so that clients sent away do not all come back at once. */
  jitteredRetry (): number
}
