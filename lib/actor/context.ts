import type { Chunk, Format } from '../protocol/encoders.js'
import type { FormatRules } from '../protocol/formats.js'
import type { TopicHub } from '../topics/hub.js'
import type { SseStats } from '../types.js'
import type { HeartbeatScheduler } from './heartbeat.js'

/** A route's stream options, merged with the plugin's and checked once, when the route is declared. */
export interface StreamOptions {
  /** The wire format the route chose. */
  format: Format
  /** How this stream is written: the format's rules, or the WebSocket transport's. */
  rules: FormatRules
  /** The route also accepts a WebSocket upgrade and runs the same handler over it. */
  websocket: boolean
  /** Ms of silence before a heartbeat comment; always false on ndjson and raw. */
  heartbeat: number | false
  /** Ms written as `retry:` when an SSE stream opens; undefined: none. */
  retry: number | undefined
  /** Messages the mailbox holds before `overflow` applies. */
  mailboxLimit: number
  /** What a full mailbox does. */
  overflow: 'disconnect' | 'drop-oldest'
  /** Bytes queued on the socket before the writer stops taking messages. */
  highWaterMark: number
  /** Ms a full socket is given before the stream is a dead consumer. */
  drainTimeout: number
  /** Topics the stream may subscribe to; past it `subscribe` rejects with SSE_ERR_TOO_MANY_TOPICS. */
  maxTopicsPerStream: number
}

/** A stream as `app.sse` reaches it by its id: each call goes through its mailbox. */
export interface StreamByIdentity {
  notify (msg: unknown): boolean
  push (chunks: Chunk | Chunk[]): boolean
  end (final: Chunk | Chunk[] | undefined): boolean
}

/** What every stream of one plugin instance shares. */
export interface PluginContext {
  readonly heartbeats: HeartbeatScheduler
  readonly hub: TopicHub
  readonly stats: SseStats
  /** Every stream, opening or open: counts toward maxConnections and is ended on shutdown. */
  readonly streams: Set<{ endForAppClose (retry: number): Promise<void> }>
  /** Streams whose id was asked for, so `notify` can reach them. */
  readonly byId: Map<string, StreamByIdentity>
  /** A `retry:` value spread over time, so that clients sent away do not all come back at once (send-away.ts). */
  jitteredRetry (): number
}
