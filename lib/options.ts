import type { StreamOptions } from './actor/context.js'
import { integerOption } from './broker/validate.js'
import { refuseUnknownKeys } from './check-keys.js'
import { InvalidOptionError } from './errors.js'
import type { Format } from './protocol/encoders.js'
import { formats, isFormat } from './protocol/formats.js'
import type { ChunkOptions, MailboxOptions, ReplyChunkOptions, SsePluginOptions } from './types.js'

const defaults = {
  heartbeat: 15_000,
  mailbox: { limit: 1000, overflow: 'disconnect' },
  highWaterMark: 1 << 20,
  drainTimeout: 30_000,
  maxTopicsPerStream: 64,
  maxConnections: Infinity,
  shutdownTimeout: 5_000
} as const

/** Lists every key of T: a key added to the interface but not to the list is a compile error here. */
function keysOf<T> () {
  return <const K extends ReadonlyArray<keyof T & string>>(...keys: [Exclude<keyof T, K[number]>] extends [never] ? K : never): readonly string[] => keys
}

const mailboxKeys = keysOf<MailboxOptions>()('limit', 'overflow')
const chunkKeys = keysOf<ChunkOptions>()('format', 'heartbeat', 'retry', 'mailbox', 'highWaterMark', 'drainTimeout', 'maxTopicsPerStream', 'websocket')
// A WebSocket upgrade is routed to a route declared for it: a reply decided at request time cannot ask for one.
const replyKeys = keysOf<ReplyChunkOptions>()(...chunkKeys.filter((key) => key !== 'websocket') as Array<keyof ReplyChunkOptions>, 'state')
/** The route defaults a plugin may set: every chunk option but `format`. */
const pluginStreamKeys = chunkKeys.filter((key) => key !== 'format' && key !== 'websocket') as Array<Exclude<keyof ChunkOptions, 'format' | 'websocket'>>
const pluginOwnKeys = keysOf<SsePluginOptions>()(...pluginStreamKeys, 'broker', 'maxConnections', 'shutdownTimeout', 'serialize')
// Fastify hands its own register options to the plugin with ours (fastify 5: prefix, logLevel, logSerializers).
const pluginKeys = [...pluginOwnKeys, 'prefix', 'logLevel', 'logSerializers']

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

/** An options object, checked for unknown keys; null is refused, not read as "no options". */
function checkObject (options: object, allowed: readonly string[], where: string): void {
  if (options === null) throw new InvalidOptionError(where, 'must be an object, got null')
  refuseUnknownKeys(options, allowed, where)
}

/** Heartbeats are SSE comments: other formats never get one, and a route that asks for one is told so. */
function heartbeatOf (format: Format, base: unknown, route: unknown): number | false {
  if (formats[format].heartbeat === 'none') {
    if (route !== undefined && route !== false) throw new InvalidOptionError('heartbeat', `heartbeats are SSE comments: a ${format} stream has none (leave it out or set false)`)
    return false
  }
  const heartbeat = route ?? base ?? defaults.heartbeat
  return heartbeat === false ? false : positive('heartbeat', heartbeat)
}

/**
 * Merges a route's `chunk` options over the plugin's and checks them once, when the route is declared.
 * `base` comes from the plugin options, already checked by `resolvePluginOptions`.
 */
function websocketOption (value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new InvalidOptionError('websocket', `must be a boolean, got ${String(value)}`)
  return value
}

export function resolveStreamOptions (base: ChunkOptions, route: ChunkOptions = {}, where = 'chunk'): StreamOptions {
  checkObject(route, chunkKeys, where)
  refuseUnknownKeys(route.mailbox, mailboxKeys, `${where}.mailbox`)
  const merged = { ...base, ...route, mailbox: { ...defaults.mailbox, ...base.mailbox, ...route.mailbox } }
  const format: Format = merged.format ?? 'sse'
  if (!isFormat(format)) throw new InvalidOptionError('format', `must be 'sse', 'ndjson' or 'raw', got ${String(format)}`)
  const overflow = merged.mailbox.overflow
  if (overflow !== 'disconnect' && overflow !== 'drop-oldest') throw new InvalidOptionError('mailbox.overflow', `must be 'disconnect' or 'drop-oldest', got ${String(overflow)}`)
  return {
    format,
    rules: formats[format],
    websocket: websocketOption(route.websocket),
    heartbeat: heartbeatOf(format, base.heartbeat, route.heartbeat),
    retry: optionalRetry(merged.retry),
    mailboxLimit: positive('mailbox.limit', merged.mailbox.limit, true),
    overflow,
    highWaterMark: positive('highWaterMark', merged.highWaterMark ?? defaults.highWaterMark),
    drainTimeout: positive('drainTimeout', merged.drainTimeout ?? defaults.drainTimeout),
    maxTopicsPerStream: integerOption('maxTopicsPerStream', merged.maxTopicsPerStream, defaults.maxTopicsPerStream, 1)
  }
}

export interface PluginSettings {
  maxConnections: number
  shutdownTimeout: number
  /** Published data that is not a string, to text. */
  serialize: (data: unknown) => string
  /** The route defaults, as given: merged with each route's own. */
  base: ChunkOptions
  /** The stream options of a route that overrides nothing, resolved once. */
  defaults: StreamOptions
}

function serializeOption (value: unknown): (data: unknown) => string {
  if (value === undefined) return JSON.stringify
  if (typeof value !== 'function') throw new InvalidOptionError('serialize', `must be a function of the data returning a string, got ${typeof value}`)
  return value as (data: unknown) => string
}

export function resolvePluginOptions (options: SsePluginOptions = {}): PluginSettings {
  checkObject(options, pluginKeys, 'ssePlugin')
  refuseUnknownKeys(options.mailbox, mailboxKeys, 'ssePlugin.mailbox')
  const base: ChunkOptions = Object.fromEntries(Object.entries(options).filter(([key]) => (pluginStreamKeys as string[]).includes(key)))
  const routeDefaults = resolveStreamOptions(base) // fails at registration, not at the first request
  return {
    defaults: routeDefaults,
    maxConnections: positive('maxConnections', options.maxConnections ?? defaults.maxConnections, true),
    shutdownTimeout: positive('shutdownTimeout', options.shutdownTimeout ?? defaults.shutdownTimeout),
    serialize: serializeOption(options.serialize),
    base
  }
}

/** `reply.chunk(handler, options)`: the stream options (the defaults when it overrides none) and the first state. */
export function resolveReplyOptions (settings: PluginSettings, options: ReplyChunkOptions = {}): { options: StreamOptions, state: unknown } {
  checkObject(options, replyKeys, 'reply.chunk')
  const { state, ...overrides } = options
  const resolved = Object.keys(overrides).length === 0 ? settings.defaults : resolveStreamOptions(settings.base, overrides, 'reply.chunk')
  return { options: resolved, state }
}
