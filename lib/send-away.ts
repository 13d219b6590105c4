// Sending a client away, in one place: how long it is told to wait (the jitter rule), how that is
// framed (`retry:`), and the status and headers of the answer. The route (over capacity, shutting
// down, no broker), the closing gate (a request that arrives while the app closes) and an open
// stream's shutdown all ask this; which way each format goes is its `sendAway` in protocol/formats.ts.

import type { FormatRules } from './protocol/formats.js'

/** The base of the jitter when the plugin has no `retry` option, in ms. */
const DEFAULT_SEND_AWAY_RETRY = 1000

/** The least base, in ms, of the `retry:` a client sent away gets: a `retry: 0` option must not make clients spin. */
const MIN_SEND_AWAY_RETRY = 250

/** The headers of every event stream's response, a send-away's too: nothing caches or buffers it. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }

/** A `retry:` field in a block of its own: sets the client's reconnection delay, dispatches nothing. */
export function retryBlock (ms: number): string {
  return `retry: ${ms}\n\n`
}

/**
 * The delays told to clients sent away: between one and five times the base (the plugin's `retry`
 * option, else 1 s; never under 250 ms), so that thousands of clients sent away at once come back
 * spread over seconds, not in the same one.
 */
export function sendAwayDelays (retry: number | undefined, random: () => number = Math.random): () => number {
  const base = Math.max(retry ?? DEFAULT_SEND_AWAY_RETRY, MIN_SEND_AWAY_RETRY)
  return () => Math.round(base * (1 + 4 * random()))
}

/** How a request that gets no stream is sent away. */
export interface SendAway {
  /** The format's way: `'retry'` is a stream that says `retry:` and ends, `'status'` a plain answer. */
  kind: FormatRules['sendAway']
  /** 200 for an event stream (any error status would stop EventSource for good), else 503. */
  status: number
  /** The event stream's type and no-cache headers, or `Retry-After` in whole seconds. */
  headers: Record<string, string | number>
  /** What is written before the end: the `retry:` block; '' for a status. */
  body: string
}

/** The answer that sends a client of `rules`' format away, told to come back in `retry` ms. */
export function sendAwayAnswer (rules: FormatRules, retry: number): SendAway {
  if (rules.sendAway === 'status') {
    return { kind: 'status', status: 503, headers: { 'retry-after': Math.ceil(retry / 1000) }, body: '' }
  }
  return { kind: 'retry', status: 200, headers: { 'content-type': rules.contentType, ...STREAM_HEADERS }, body: retryBlock(retry) }
}

/**
 * How a WebSocket already upgraded is sent away (no status can be answered any more): 1013, try
 * again later. One that is still a request gets the `'status'` answer, a 503 with `Retry-After`.
 */
export const WEBSOCKET_SEND_AWAY = { code: 1013, reason: 'try again later' } as const

/**
 * What an open stream writes before its end when it is sent away (shutdown): the `retry:` block on
 * a format that is sent away with one; nothing elsewhere (a WebSocket's close code says it).
 */
export function partingWords (rules: FormatRules, retry: number): string | undefined {
  return rules.sendAway === 'retry' ? retryBlock(retry) : undefined
}
