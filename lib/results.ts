import type { Chunk } from './protocol/encoders.js'
import type { CloseReason } from './close-reason.js'

// What `init` and `handle` may return besides chunks. Tagged objects, so a chunk is never mistaken
// for one of them.

const kResult = Symbol('fastify-sse-actors.result')

export interface Stop {
  readonly [kResult]: 'stop'
  readonly final: Chunk | Chunk[] | undefined
  /** Why the stream ends: 'stopped' for the handler's own `stop()`; the plugin's handlers may say more. */
  readonly reason: CloseReason
}
export interface NoContent { readonly [kResult]: 'no-content' }
export interface Shutdown {
  readonly [kResult]: 'shutdown'
  readonly status: number
  readonly headers: Record<string, string | number | string[]> | undefined
  readonly body: unknown
}

export type Outcome = Stop | NoContent | Shutdown

/** Ends the stream: what was returned is written, then `final`, then the stream ends. */
export function stop (final?: Chunk | Chunk[]): Stop {
  return { [kResult]: 'stop', final, reason: 'stopped' }
}

/** Internal, for the plugin's own handlers: ends the stream for another reason than `stop()` ('upstream-closed'). */
export function endStream (reason: CloseReason, final?: Chunk | Chunk[]): Stop {
  return { [kResult]: 'stop', final, reason }
}

const NO_CONTENT: NoContent = Object.freeze({ [kResult]: 'no-content' as const })

/** From `init`: answer 204 No Content, so EventSource stops reconnecting. */
export function noContent (): NoContent {
  return NO_CONTENT
}

/** From `init`: answer with this status, headers and body instead of opening the stream. */
export function shutdown (status: number, options: { headers?: Shutdown['headers'], body?: unknown } = {}): Shutdown {
  return { [kResult]: 'shutdown', status, headers: options.headers, body: options.body }
}

export function outcomeOf (value: unknown): Outcome[typeof kResult] | undefined {
  return value !== null && typeof value === 'object' && kResult in value ? (value as Outcome)[kResult] : undefined
}
