import type { EventEncoder, Format } from './encoders.js'
import { encoderFor, websocketEncoder } from './encoders.js'

/** A format a stream is written in: the HTTP ones a route chooses, and the WebSocket transport. */
export type Transport = Format | 'websocket'

/** Everything that differs from one format to another, in one place. */
export interface FormatRules {
  readonly transport: Transport
  /** The Content-Type of its responses (none over WebSocket). */
  readonly contentType: string
  /** A route may answer with a Content-Type of its own (Aino's `response_header`). */
  readonly ownContentType: boolean
  /** How an Event is written; `id` is the stream's cursor on a stream with topics. */
  readonly encode: EventEncoder
  /**
   * Speaks text/event-stream: the `retry` option's line when a stream opens, id-only blocks for a
   * cursor nothing else carried, the shared bytes of topic events, event boundaries.
   */
  readonly eventStream: boolean
  /** What keeps an idle stream alive: a `:` comment, a WebSocket ping, or nothing. */
  readonly heartbeat: 'comment' | 'ping' | 'none'
  /**
   * How a client is sent away (over capacity, shutting down, no broker, the app closing): `'retry'`,
   * a 200 and a jittered `retry:` (EventSource stops for good at an error status), also the last
   * words of an open stream at shutdown; `'status'`, a 503 with `Retry-After` (nothing written to an
   * open stream). The answer itself, its delay and its framing are lib/send-away.ts's.
   */
  readonly sendAway: 'retry' | 'status'
}

export const formats: Readonly<Record<Transport, FormatRules>> = {
  sse: { transport: 'sse', contentType: 'text/event-stream; charset=utf-8', ownContentType: false, encode: encoderFor('sse'), eventStream: true, heartbeat: 'comment', sendAway: 'retry' },
  ndjson: { transport: 'ndjson', contentType: 'application/x-ndjson; charset=utf-8', ownContentType: true, encode: encoderFor('ndjson'), eventStream: false, heartbeat: 'none', sendAway: 'status' },
  raw: { transport: 'raw', contentType: 'application/octet-stream', ownContentType: true, encode: encoderFor('raw'), eventStream: false, heartbeat: 'none', sendAway: 'status' },
  websocket: { transport: 'websocket', contentType: '', ownContentType: false, encode: websocketEncoder, eventStream: false, heartbeat: 'ping', sendAway: 'status' }
}

export function isFormat (value: unknown): value is Format {
  return value === 'sse' || value === 'ndjson' || value === 'raw'
}
