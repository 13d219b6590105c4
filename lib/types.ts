import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from './broker/types.js'
import type { Chunk, Format } from './protocol/encoders.js'
import type { NoContent, Shutdown, Stop } from './results.js'
import type { Published } from './topics/published.js'

export type { Chunk, Format }

/** Why a stream ended; `terminate` receives it exactly once. */
export type CloseReason = 'client-closed' | 'stopped' | 'shutdown' | 'error' | 'overflow' | 'topic-closed' | 'upstream-closed'

type Awaitable<T> = T | Promise<T>

/** Any Fastify request, whatever its server, schema or type provider. */
export type AnyRequest = FastifyRequest<any, any, any, any, any, any, any>

export type InitResult = void | undefined | Chunk | Chunk[] | Stop | NoContent | Shutdown
export type HandleResult = void | undefined | Chunk | Chunk[] | Stop

/** The actor's own view of its stream, passed to every callback. */
export interface Token<State = any, Msg = any, Request extends AnyRequest = FastifyRequest> {
  /** Unguessable and unique across instances: the address for `app.sse.notify`. */
  readonly id: string
  readonly request: Request
  readonly reply: FastifyReply
  /** The `Last-Event-ID` header, else the `lastEventId` query parameter. */
  readonly lastEventId: string | undefined
  /** Aborts when the stream ends. */
  readonly signal: AbortSignal
  /** `request.log` with the stream id bound. */
  readonly log: FastifyBaseLogger
  /** The handler's own state. */
  state: State
  /** Puts a message in this stream's own mailbox. */
  send (msg: Msg): void
  /** Sends `msg` once after `ms`; returns a function that cancels it. */
  after (ms: number, msg: Msg): () => void
  /** Sends `msg` every `ms`, with at most one tick waiting in the mailbox; returns a function that cancels it. */
  every (ms: number, msg: Msg): () => void
  /** Subscribes the stream to a topic: replays what came after `lastEventId`, then goes live. */
  subscribe (topic: string): Promise<void>
  unsubscribe (topic: string): Promise<void>
  /** Ends the stream after the current message: `final` is written last. */
  close (final?: Chunk | Chunk[]): void
}

/** The actor's behaviour: `init` once, then `handle` for each message, `terminate` once at the end. */
export interface ChunkedHandler<State = any, Msg = any, Request extends AnyRequest = FastifyRequest> {
  init?(token: Token<State, Msg, Request>): Awaitable<InitResult>
  handle?(msg: Msg, token: Token<State, Msg, Request>): Awaitable<HandleResult>
  terminate?(reason: CloseReason, token: Token<State, Msg, Request>): Awaitable<void | Chunk | Chunk[]>
  handleError?(error: Error, msg: Msg | undefined, token: Token<State, Msg, Request>): void
}

/** An async generator function of the token: each yielded value is a chunk. */
export type GeneratorHandler<State = any, Request extends AnyRequest = FastifyRequest> =
  (token: Token<State, never, Request>) => AsyncGenerator<Chunk, void | Chunk | Chunk[] | undefined, unknown>

export type StreamHandler<State = any, Msg = any, Request extends AnyRequest = FastifyRequest> =
  ChunkedHandler<State, Msg, Request> | GeneratorHandler<State, Request>

export interface MailboxOptions {
  /** Messages waiting in a stream's mailbox before the overflow policy applies. */
  limit?: number
  /** 'disconnect' ends the stream ('overflow'); 'drop-oldest' drops the handler's own oldest message. */
  overflow?: 'disconnect' | 'drop-oldest'
}

/** What a route may override through `chunk: { ... }`. */
export interface ChunkOptions {
  format?: Format
  heartbeat?: number | false
  retry?: number
  mailbox?: MailboxOptions
  highWaterMark?: number
  drainTimeout?: number
}

export interface SsePluginOptions extends Omit<ChunkOptions, 'format'> {
  broker?: Broker
  maxConnections?: number
  shutdownTimeout?: number
}

export interface ReplyChunkOptions<State = any> extends ChunkOptions {
  state?: State
}

export interface SseStats {
  connections: number
  eventsWritten: number
  bytesWritten: number
  messagesDropped: number
  overflowDisconnects: number
  replays: number
  resets: number
}

export interface SseDecorator {
  publish (topic: string, data: unknown, options?: { event?: string }): Promise<string>
  notify (connectionId: string, msg: unknown): boolean
  closeTopic (topic: string, final?: unknown): Promise<void>
  readonly connections: number
  stats (): SseStats
}

export type { Published }
