import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from './broker/types.js'
import type { CloseReason } from './close-reason.js'
import type { Chunk, Format } from './protocol/encoders.js'
import type { NoContent, Shutdown, Stop } from './results.js'

export type { Chunk, Format }

export type { CloseReason } from './close-reason.js'

type Awaitable<T> = T | Promise<T>

/** Any Fastify request, whatever its server, schema or type provider. */
export type AnyRequest = FastifyRequest<any, any, any, any, any, any, any>

export type InitResult = void | undefined | Chunk | Chunk[] | Stop | NoContent | Shutdown
export type HandleResult = void | undefined | Chunk | Chunk[] | Stop

export interface SubscribeOptions {
  /**
   * Where a stream without a cursor for the topic starts: 'head' (default), only what comes next, or
   * 'start', the retained history first (a generation the client opened after it began; a reset when
   * the history no longer holds the topic's first event). A cursor, when the client sent one, wins.
   */
  from?: 'head' | 'start'
}

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
  subscribe (topic: string, options?: SubscribeOptions): Promise<void>
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
  /** Messages sent with `app.sse.notify` (Lasse's `handle_notify`); without it they go to `handle`. */
  handleNotify?(msg: any, token: Token<State, Msg, Request>): Awaitable<HandleResult>
}

/** An async generator function of the token: each yielded value is a chunk. */
export type GeneratorHandler<State = any, Request extends AnyRequest = FastifyRequest> =
  (token: Token<State, never, Request>) => AsyncGenerator<Chunk, void | Chunk | Chunk[] | undefined, unknown>

/**
 * A function of the token returning any AsyncIterable of chunks (an async generator, a Node
 * `Readable`, a web `ReadableStream`): the next value is read only while the socket has room.
 */
export type SourceHandler<State = any, Request extends AnyRequest = FastifyRequest> =
  (token: Token<State, never, Request>) => AsyncIterable<Chunk> | AsyncGenerator<Chunk, void | Chunk | Chunk[] | undefined, unknown>

export type StreamHandler<State = any, Msg = any, Request extends AnyRequest = FastifyRequest> =
  ChunkedHandler<State, Msg, Request> | SourceHandler<State, Request>

export interface MailboxOptions {
  /** Messages waiting in a stream's mailbox before the overflow policy applies; a positive number or Infinity. Default 1000. */
  limit?: number
  /** 'disconnect' ends the stream ('overflow'); 'drop-oldest' drops the handler's own oldest message (never a topic event). Default 'disconnect'. */
  overflow?: 'disconnect' | 'drop-oldest'
}

/** What a route may override through `chunk: { ... }`. Unknown keys are `SSE_ERR_INVALID_OPTION`. */
export interface ChunkOptions {
  /** The wire format: 'sse' (text/event-stream), 'ndjson' or 'raw'. Default 'sse'. */
  format?: Format
  /**
   * Ms of silence before a ':' comment is written (it goes out after 0.9 to 1.0 of it, so no silence
   * is longer); false: off. Default 15 000 on SSE. Heartbeats are SSE comments: ndjson and raw
   * streams have none, and a number given for one is `SSE_ERR_INVALID_OPTION`.
   */
  heartbeat?: number | false
  /** If set, `retry: N` (ms, a non-negative integer) is written when an SSE stream opens. Default unset. */
  retry?: number
  /** The stream's mailbox: its size limit and overflow policy. */
  mailbox?: MailboxOptions
  /** Bytes queued on the socket before the writer stops taking from the mailbox. Default 1 MiB (1 << 20). */
  highWaterMark?: number
  /** Ms a socket may stay full before the stream is treated as a dead consumer (overflow). Default 30 000. */
  drainTimeout?: number
  /**
   * Topics one stream may subscribe to; past it subscribe rejects with SSE_ERR_TOO_MANY_TOPICS, so the
   * stream's cursor always fits what the server accepts back (4 KB). A positive integer. Default 64.
   */
  maxTopicsPerStream?: number
  /**
   * The route also accepts a WebSocket upgrade and runs the same handler over it, one actor per
   * socket (route level only). Default false.
   */
  websocket?: boolean
}

/**
 * The plugin's options: route defaults (every `ChunkOptions` but `format`) and the instance's own. Besides
 * these, only the register options Fastify passes along (`prefix`, `logLevel`, `logSerializers`) are accepted.
 */
export interface SsePluginOptions extends Omit<ChunkOptions, 'format' | 'websocket'> {
  /** Where topics live. Default `memoryBroker()` (this process only). */
  broker?: Broker
  /** Streams open at once on this instance; beyond it a new SSE stream gets a jittered `retry:` and ends. Default Infinity. */
  maxConnections?: number
  /** Ms `fastify.close()` lets handlers say goodbye before their sockets are cut. Default 5 000. */
  shutdownTimeout?: number
  /**
   * Turns the non-string data given to `app.sse.publish` and `closeTopic` into text (an `Event` built
   * by a handler serializes its own data with JSON). Must return a string. Default `JSON.stringify`.
   */
  serialize?: (data: unknown) => string
}

/** The options of `reply.chunk(handler, options)`: a route's overrides and the handler's first state. */
export interface ReplyChunkOptions<State = any> extends Omit<ChunkOptions, 'websocket'> {
  /** The initial `token.state`. Default undefined. */
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
  /** Publishes to a topic on every instance; resolves to the event's position, for logs. */
  publish (topic: string, data: unknown, options?: { event?: string }): Promise<string>
  /** To that stream's `handleNotify`, else `handle`; false when it takes no messages or is not on this instance. */
  notify (streamId: string, msg: unknown): boolean
  /** Writes chunks to that stream as they are, through its mailbox, in order with what `handle` writes. */
  send (streamId: string, chunks: Chunk | Chunk[]): boolean
  /** Ends that stream after what its mailbox holds: `final` is written last. */
  close (streamId: string, final?: Chunk | Chunk[]): boolean
  /** Ends every stream on the topic on every instance, after what was published before; leaves a tombstone. */
  closeTopic (topic: string, final?: unknown): Promise<void>
  /** Removes the tombstone: the topic may be used again, in a new epoch. */
  reopenTopic (topic: string): Promise<void>
  readonly connections: number
  stats (): SseStats
}
