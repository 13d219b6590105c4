import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { IdReservedError } from '../errors.js'
import { describeInvalidChunk, type Chunk } from '../protocol/encoders.js'
import { Event } from '../protocol/event.js'
import { noContent, outcomeOf, type Stop } from '../results.js'
import { isPublished, Published } from '../topics/published.js'
import { StreamTopics, type StreamTopicsOwner } from '../topics/stream-topics.js'
import type { ChunkedHandler, CloseReason, HandleResult, InitResult, Token } from '../types.js'
import type { PluginContext, StreamOptions } from './context.js'
import type { Beating } from './heartbeat.js'
import { nextPhase, type Phase } from './lifecycle.js'
import { Mailbox } from './mailbox.js'
import { Timer, Timers, type TimerOwner } from './timers.js'
import { type RawReply, Writer } from './writer.js'

const HEARTBEAT = Buffer.from(':\n\n')

/** The response's own stream, for the one `close` listener all responses share. */
const kActor = Symbol('fastify-sse-actors.stream')

/** What `init` decided, for the route function to act on. */
export type Opening =
  | { kind: 'open', initial: InitResult }
  | { kind: 'refused', result: InitResult }

/**
 * One streaming reply: a mailbox processed one message at a time, in order, to completion, and a
 * handler that turns each message into chunks. Its token is the actor itself, seen through the
 * `Token` interface. Everything it acquires is released by `#release`, on every way out.
 */
export class StreamActor implements Token, Beating, TimerOwner, StreamTopicsOwner {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly lastEventId: string | undefined
  state: any
  wroteSinceTick = false
  idleTicks = 0

  readonly #handler: ChunkedHandler
  readonly #options: StreamOptions
  readonly #context: PluginContext
  readonly #writer: Writer
  /** Relays topic events as they came, in SSE: their shared bytes may be written as they arrive. */
  readonly #relaysShared: boolean
  /** Made when a message must wait: a stream that keeps up never allocates one. */
  #mailbox: Mailbox<unknown> | undefined
  #phase: Phase = 'opening'
  /** A message is being handled (maybe awaiting an async `handle`): others wait their turn. */
  #busy = false
  #id: string | undefined
  #log: FastifyBaseLogger | undefined
  #abort: AbortController | undefined
  #timers: Timers | undefined
  #topics: StreamTopics | undefined
  /** `close(final)` was called: the stream ends once the current message is written. */
  #closeRequested: { reason: CloseReason, final: Chunk | Chunk[] | undefined } | undefined
  /** A topic init subscribed to is closed: answer 204. */
  #topicClosedBeforeOpen = false
  #drainTimer: NodeJS.Timeout | undefined
  #onDrain: (() => void) | undefined
  #closed: Promise<void> | undefined

  constructor (request: FastifyRequest, reply: FastifyReply, handler: ChunkedHandler, options: StreamOptions, context: PluginContext, state: unknown, lastEventId: string | undefined) {
    this.request = request
    this.reply = reply
    this.#handler = handler
    this.#options = options
    this.#context = context
    this.state = state
    this.lastEventId = lastEventId
    this.#writer = new Writer(reply.raw as RawReply, context.stats)
    this.#relaysShared = handler.handle === undefined && options.format === 'sse'
    context.streams.add(this)
  }

  /** Shared by every response (no closure per stream): the client went away before the end. */
  static #onResponseClose = function (this: RawReply): void {
    const actor = (this as unknown as Record<symbol, StreamActor | undefined>)[kActor]
    if (actor !== undefined && !this.writableFinished) void actor.#close('client-closed')
  }

  // ---- Token -------------------------------------------------------------------------------

  get id (): string {
    if (this.#id === undefined) {
      this.#id = randomUUID()
      if (this.#phase === 'opening' || this.#phase === 'open') this.#context.byId.set(this.#id, this)
    }
    return this.#id
  }

  get log (): FastifyBaseLogger {
    return (this.#log ??= this.request.log.child({ streamId: this.id }))
  }

  get signal (): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController()
      if (this.#phase === 'closing' || this.#phase === 'closed') this.#abort.abort()
    }
    return this.#abort.signal
  }

  send (msg: unknown): void {
    this.#enqueue(msg)
  }

  after (ms: number, msg: unknown): () => void {
    return this.#startTimer(ms, msg, false)
  }

  every (ms: number, msg: unknown): () => void {
    return this.#startTimer(ms, msg, true)
  }

  async subscribe (topic: string): Promise<void> {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    this.#topics ??= new StreamTopics(this.#context.hub, this, this.lastEventId)
    const closed = await this.#topics.subscribe(topic)
    if (closed) this.topicClosed(undefined)
    else this.#drain()
  }

  async unsubscribe (topic: string): Promise<void> {
    this.#topics?.unsubscribe(topic)
  }

  close (final?: Chunk | Chunk[]): void {
    this.endWith('stopped', final)
  }

  /** Like `close`, for the plugin's own handlers that end a stream for another reason (a failed upstream). */
  endWith (reason: CloseReason, final?: Chunk | Chunk[]): void {
    if (this.#busy || this.#phase === 'opening') this.#closeRequested = { reason, final }
    else void this.#close(reason, final)
  }

  // ---- from outside the handler --------------------------------------------------------------

  notify (msg: unknown): boolean {
    return this.#enqueue(msg)
  }

  fire (timer: Timer): void {
    if (timer.repeat) {
      if (timer.queued) return
      timer.queued = true
    }
    this.#enqueue(timer)
  }

  enqueuePublished (published: Published): void {
    // The fan-out's hot path, decided in a few reads: an idle SSE stream that relays its one topic
    // moves its cursor and writes the event's shared bytes at once. Anything else takes the mailbox.
    if (this.#relaysShared && this.#idle() && this.#topics!.advanceSole(published)) {
      this.#writeShared(published)
      return
    }
    this.#enqueue(published)
  }

  topicClosed (final: Event | undefined): void {
    if (this.#phase === 'opening') this.#topicClosedBeforeOpen = true
    else void this.#close('topic-closed', final)
  }

  reset (topic: string): void {
    this.#context.stats.resets++
    this.#enqueue(new TopicReset(topic))
  }

  resumed (): void {
    this.#context.stats.replays++
  }

  beat (): void {
    if (this.#writer.pending === 0) this.#writer.write(HEARTBEAT)
  }

  /** Ends the stream for `fastify.close()`: a jittered `retry:` first, then `terminate('shutdown')`. */
  shutdown (retry: number): Promise<void> {
    if (this.#phase === 'open' && this.#options.format === 'sse') this.#writer.write(`retry: ${retry}\n\n`)
    return this.#close('shutdown')
  }

  /** Cuts the connection: for a client that does not read while the server shuts down. */
  kill (): void {
    this.#writer.res.destroy()
  }

  // ---- opening -------------------------------------------------------------------------------

  /** Runs `init`. Throws what `init` threw, after `terminate('error')`. */
  async init (): Promise<Opening> {
    let result: InitResult
    try {
      result = this.#handler.init === undefined ? undefined : await this.#handler.init(this)
    } catch (error) {
      await this.#close('error')
      throw error
    }
    const outcome = outcomeOf(result)
    if (this.#topicClosedBeforeOpen) result = noContent()
    if (this.#topicClosedBeforeOpen || outcome === 'no-content' || outcome === 'shutdown') {
      await this.#close('stopped')
      return { kind: 'refused', result }
    }
    return { kind: 'open', initial: result }
  }

  /** Sends the headers and what `init` returned, then starts taking messages. */
  open (headers: Record<string, string | number | string[]>, initial: InitResult): void {
    const raw = this.reply.raw
    if (raw.destroyed) {
      void this.#close('client-closed')
      return
    }
    if (this.#phase !== 'opening') {
      // Closed while init ran (the server is shutting down): tell the client when to come back.
      this.#writer.open(headers)
      if (this.#options.format === 'sse') this.#writer.write(`retry: ${this.#context.jitteredRetry()}\n\n`)
      void this.#writer.end()
      return
    }
    this.#phase = nextPhase(this.#phase, 'open')
    ;(raw as unknown as Record<symbol, StreamActor>)[kActor] = this
    raw.on('close', StreamActor.#onResponseClose)
    this.#writer.open(headers)
    if (this.#options.retry !== undefined && this.#options.format === 'sse') this.#writer.write(`retry: ${this.#options.retry}\n\n`)
    if (this.#options.heartbeat !== false && this.#options.format === 'sse') this.#context.heartbeats.add(this, this.#options.heartbeat)
    if (outcomeOf(initial) === 'stop') {
      void this.#close('stopped', (initial as Stop).final)
      return
    }
    this.#apply(initial as HandleResult, undefined)
    this.#drain()
  }

  // ---- the mailbox ---------------------------------------------------------------------------

  #enqueue (msg: unknown): boolean {
    if (this.#phase === 'closing' || this.#phase === 'closed') return false
    if (this.#idle()) {
      // Nothing ahead of it: handled at once, without a trip through the mailbox.
      this.#busy = true
      const pending = this.#process(msg)
      if (pending !== undefined) {
        pending.then(() => this.#resume(), () => this.#resume())
        return true
      }
      this.#busy = false
      if (this.#mailbox !== undefined && this.#mailbox.size > 0) this.#drain()
      else if (this.#phase === 'open') this.#writePendingCursor()
      return true
    }
    if ((this.#mailbox?.size ?? 0) >= this.#options.mailboxLimit && !this.#makeRoom(msg)) return false
    ;(this.#mailbox ??= new Mailbox()).push(msg)
    this.#drain()
    return true
  }

  /** Open, handling nothing, nothing waiting, room on the socket: a message may be handled at once. */
  #idle (): boolean {
    return !this.#busy && this.#phase === 'open' && (this.#mailbox === undefined || this.#mailbox.size === 0) && this.#writer.pending < this.#options.highWaterMark
  }

  /** The mailbox is full: apply the overflow policy. True when `msg` may still be queued. */
  #makeRoom (msg: unknown): boolean {
    if (this.#options.overflow === 'drop-oldest') {
      // Only the handler's own messages are dropped: a dropped topic event would be a silent gap.
      if (this.#mailbox!.dropOldest((queued) => !isPublished(queued) && !(queued instanceof TopicReset))) {
        this.#context.stats.messagesDropped++
        return true
      }
      if (!isPublished(msg)) {
        this.#context.stats.messagesDropped++
        return false
      }
    }
    this.#context.stats.overflowDisconnects++
    void this.#close('overflow')
    return false
  }

  #drain (): void {
    if (this.#busy || this.#phase !== 'open') return
    this.#busy = true
    while (this.#phase === 'open') {
      if (this.#writer.pending >= this.#options.highWaterMark) {
        this.#waitForDrain()
        break
      }
      const mailbox = this.#mailbox
      if (mailbox === undefined || mailbox.size === 0) {
        this.#writePendingCursor()
        break
      }
      const pending = this.#process(mailbox.shift())
      if (pending !== undefined) {
        pending.then(() => this.#resume(), () => this.#resume())
        return
      }
    }
    this.#busy = false
  }

  #resume (): void {
    this.#busy = false
    this.#drain()
  }

  /** Handles one message; returns a promise when `handle` is async. */
  #process (msg: unknown): Promise<void> | undefined {
    if (msg instanceof TopicReset) {
      this.#writeChunk(new Event({ event: 'reset', data: msg.topic }))
      return undefined
    }
    if (msg instanceof Timer) {
      msg.queued = false
      msg = msg.msg
    }
    if (isPublished(msg)) {
      if (!this.#topics!.processed(msg)) return undefined
      if (this.#handler.handle === undefined) {
        this.#writeChunk(msg.event, msg)
        return undefined
      }
    }
    let result: HandleResult | Promise<HandleResult>
    try {
      result = this.#handler.handle === undefined ? undefined : this.#handler.handle(msg, this)
    } catch (error) {
      this.#fail(error, msg)
      return undefined
    }
    if (result instanceof Promise) return result.then((value) => this.#apply(value, msg), (error: unknown) => this.#fail(error, msg))
    this.#apply(result, msg)
    return undefined
  }

  #apply (result: HandleResult, msg: unknown): void {
    if (this.#phase !== 'open') return
    try {
      if (result instanceof Event) this.#writeChunk(result, msg) // the common case, first
      else if (outcomeOf(result) === 'stop') {
        void this.#close('stopped', (result as Stop).final)
        return
      } else this.#writeChunks(result, msg)
    } catch (error) {
      this.#fail(error, msg)
      return
    }
    const requested = this.#closeRequested
    if (requested !== undefined) void this.#close(requested.reason, requested.final)
  }

  #fail (error: unknown, msg: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    this.log.error({ err }, 'chunked handler failed: the stream ends')
    try {
      this.#handler.handleError?.(err, msg, this)
    } catch (handleErrorFailure) {
      this.log.error({ err: handleErrorFailure }, 'handleError threw')
    }
    void this.#close('error')
  }

  // ---- writing -------------------------------------------------------------------------------

  /** `source` is the message being handled: a topic event written as it came may use its shared bytes. */
  #writeChunks (chunks: HandleResult | Chunk[], source?: unknown): void {
    if (chunks === undefined || chunks === null) return
    if (!Array.isArray(chunks)) {
      this.#writeChunk(chunks as Chunk, source)
      return
    }
    for (const chunk of chunks) this.#writeChunk(chunk, source)
  }

  #writeChunk (chunk: Chunk, source?: unknown): void {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) {
      this.wroteSinceTick = true
      this.#writer.write(chunk)
      return
    }
    if (!(chunk instanceof Event)) throw describeInvalidChunk(chunk)
    let id = chunk.id
    const topics = this.#topics
    if (topics !== undefined && topics.size > 0) {
      if (id !== undefined) throw new IdReservedError()
      if (source instanceof Published && source.event === chunk && topics.dirty && this.#options.format === 'sse' && topics.isSoleCursor(source)) {
        // The stream's cursor is this event's position alone: its bytes, id included, are shared.
        topics.dirty = false
        this.#writeShared(source)
        return
      }
      if (topics.dirty) {
        id = topics.cursorId()
        topics.dirty = false
      }
    }
    this.#context.stats.eventsWritten++
    this.wroteSinceTick = true
    this.#writer.write(this.#options.encode(chunk, id))
  }

  #writeShared (published: Published): void {
    this.#context.stats.eventsWritten++
    this.wroteSinceTick = true
    this.#writer.writeShared(published.framed, published.payload)
  }

  /** The cursor moved with nothing written to carry it: an id-only block, so a reconnect resumes. */
  #writePendingCursor (): void {
    const topics = this.#topics
    if (topics === undefined || !topics.dirty || this.#options.format !== 'sse') return
    topics.dirty = false
    this.wroteSinceTick = true
    this.#writer.write(`id: ${topics.cursorId()}\n\n`)
  }

  #waitForDrain (): void {
    if (this.#drainTimer !== undefined) return
    this.#drainTimer = setTimeout(() => {
      this.#context.stats.overflowDisconnects++
      void this.#close('overflow')
    }, this.#options.drainTimeout)
    this.#writer.onceDrained(this.#onDrain ??= () => {
      clearTimeout(this.#drainTimer)
      this.#drainTimer = undefined
      this.#drain()
    })
  }

  #startTimer (ms: number, msg: unknown, repeat: boolean): () => void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return noop
    this.#timers ??= new Timers(this)
    return this.#timers.start(ms, msg, repeat)
  }

  // ---- closing -------------------------------------------------------------------------------

  #close (reason: CloseReason, final?: Chunk | Chunk[]): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    return (this.#closed = this.#closeOnce(reason, final))
  }

  async #closeOnce (reason: CloseReason, final: Chunk | Chunk[] | undefined): Promise<void> {
    const wasOpen = this.#phase === 'open'
    this.#phase = nextPhase(this.#phase, 'closing')
    this.#release()
    const writable = wasOpen && reason !== 'client-closed' && !this.#writer.res.destroyed
    if (writable) this.#writeQuietly(final)
    let last: void | Chunk | Chunk[] = undefined
    try {
      last = await this.#handler.terminate?.(reason, this)
    } catch (error) {
      this.log.error({ err: error }, 'terminate threw')
    }
    if (writable && (reason === 'stopped' || reason === 'shutdown')) this.#writeQuietly(last)
    if (wasOpen) {
      if (reason === 'overflow') this.#writer.res.destroy()
      await this.#writer.end()
    }
    this.#phase = nextPhase(this.#phase, 'closed')
  }

  #writeQuietly (chunks: Chunk | Chunk[] | void): void {
    try {
      this.#writeChunks(chunks as HandleResult)
    } catch (error) {
      this.log.error({ err: error }, 'a last chunk could not be written')
    }
  }

  /** Everything the stream acquired, released on one path whatever ended it. */
  #release (): void {
    this.#abort?.abort()
    this.#timers?.clear()
    this.#topics?.leaveAll()
    clearTimeout(this.#drainTimer)
    if (this.#drainTimer !== undefined) this.#writer.offDrained(this.#onDrain!)
    if (this.#options.heartbeat !== false) this.#context.heartbeats.remove(this, this.#options.heartbeat)
    this.#context.stats.messagesDropped += this.#mailbox?.clear() ?? 0
    this.#context.streams.delete(this)
    if (this.#id !== undefined) this.#context.byId.delete(this.#id)
  }
}

/** Tells the stream that a topic cannot be resumed exactly: written as `event: reset`. */
class TopicReset {
  constructor (readonly topic: string) {}
}

function noop (): void {}
