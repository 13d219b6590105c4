import type { StreamOptions } from './actor/context.js'
import { InvalidOptionError } from './errors.js'
import { contentTypes, encoderFor, type Format } from './protocol/encoders.js'
import type { ChunkOptions, SsePluginOptions } from './types.js'

export const defaults = {
  heartbeat: 15_000,
  mailbox: { limit: 1000, overflow: 'disconnect' },
  highWaterMark: 1 << 20,
  drainTimeout: 30_000,
  maxConnections: Infinity,
  shutdownTimeout: 5_000
} as const

function positive (name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number' || !(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new InvalidOptionError(name, `must be a positive number, got ${String(value)}`)
  }
  return value
}

function optionalRetry (value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidOptionError('retry', 'must be a non-negative integer')
  return value as number
}

/** Merges a route's `chunk` options over the plugin's and checks them once, when the route is declared. */
export function resolveStreamOptions (base: ChunkOptions, route: ChunkOptions = {}): StreamOptions {
  const merged = { ...base, ...route, mailbox: { ...defaults.mailbox, ...base.mailbox, ...route.mailbox } }
  const format: Format = merged.format ?? 'sse'
  if (!(format in contentTypes)) throw new InvalidOptionError('format', `must be 'sse', 'ndjson' or 'raw', got ${String(format)}`)
  const heartbeat = merged.heartbeat ?? (format === 'sse' ? defaults.heartbeat : false)
  const overflow = merged.mailbox.overflow
  if (overflow !== 'disconnect' && overflow !== 'drop-oldest') throw new InvalidOptionError('mailbox.overflow', `must be 'disconnect' or 'drop-oldest', got ${String(overflow)}`)
  return {
    format,
    encode: encoderFor(format),
    contentType: contentTypes[format],
    heartbeat: heartbeat === false ? false : positive('heartbeat', heartbeat),
    retry: optionalRetry(merged.retry),
    mailboxLimit: positive('mailbox.limit', merged.mailbox.limit, true),
    overflow,
    highWaterMark: positive('highWaterMark', merged.highWaterMark ?? defaults.highWaterMark),
    drainTimeout: positive('drainTimeout', merged.drainTimeout ?? defaults.drainTimeout)
  }
}

export interface PluginSettings {
  maxConnections: number
  shutdownTimeout: number
  /** The route defaults, as given: merged with each route's own. */
  base: ChunkOptions
  /** The stream options of a route that overrides nothing, resolved once. */
  defaults: StreamOptions
}

export function resolvePluginOptions (options: SsePluginOptions): PluginSettings {
  const { broker, maxConnections, shutdownTimeout, ...base } = options
  const routeDefaults = resolveStreamOptions(base) // fails at registration, not at the first request
  return {
    defaults: routeDefaults,
    maxConnections: positive('maxConnections', maxConnections ?? defaults.maxConnections, true),
    shutdownTimeout: positive('shutdownTimeout', shutdownTimeout ?? defaults.shutdownTimeout),
    base
  }
}
