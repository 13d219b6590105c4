import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { TopicPosition } from '../broker/types.js'
import { InvalidHandlerError } from '../errors.js'
import type { Chunk } from '../protocol/encoders.js'
import { Event } from '../protocol/event.js'
import { noContent, outcomeOf, type Stop } from '../results.js'
import { isPublished, type Published } from '../topics/published.js'
import { subscribeFromStart } from '../topics/subscribe-options.js'
import type { ChunkedHandler, CloseReason, HandleResult, InitResult, SubscribeOptions } from '../types.js'
import { closeRules } from './close-rules.js'
import type { PluginContext, StreamOptions } from './context.js'
import { nextPhase, type Phase } from './lifecycle.js'
import { MailboxLoop, type LoopOwner } from './mailbox-loop.js'
import { CloseRequested, Notified, ReplayMore, Sent, TopicClosed, TopicReset } from './notices.js'
import { TopicSide, type TopicSideHost } from './topic-side.js'
import { SourceDriver } from './source.js'
import { StreamOutput } from './stream-output.js'
import { Timer, Timers, type TimerOwner } from './timers.js'
import { StreamToken, type TokenOwner } from './token.js'
import type { RawReply, StreamWriter } from './writer.js'

/** The response's own stream, for the one `close` listener all responses share. */
const kActor = Symbol('fastify-sse-actors.stream')

/** What `init` decided, for the route function to act on. */
export type Opening =
  | { kind: 'open', initial: InitResult }
  | { kind: 'refused', result: InitResult }
  /** The stream ended while `init` ran: the client left, or the server is shutting down. */
  | { kind: 'gone', reason: CloseReason }

/**
 * One streaming reply: a mailbox processed one message at a time, in order, to completion, and a
 * handler that turns each message into chunks. The handler sees it only through its `token`.
 * Everything it acquires is released by `#release`, on every way out.
 */
export class StreamActor implements TokenOwner, TimerOwner, TopicSideHost, LoopOwner {
  readonly token: StreamToken
  readonly output: StreamOutput
  readonly #handler: ChunkedHandler
  readonly #options: StreamOptions
  readonly #context: PluginContext
  readonly #loop: MailboxLoop
  phase: Phase = 'opening'
  #id: string | undefined
  #log: FastifyBaseLogger | undefined
  #abort: AbortController | undefined
  #timers: Timers | undefined
  #topics: TopicSide | undefined
  /** `close(final)` was called while a message was handled: the stream ends once it is written. */
  #closeRequested: { final: Chunk | Chunk[] | undefined } | undefined
  /** A topic that init subscribed to is closed, with nothing left to replay: answer 204. */
  #noContent = false
  /** The handler's `init` while it runs: `terminate` waits for it. */
  #initializing: Promise<unknown> | undefined
  #closedFor: CloseReason | undefined
  /** `app.sse.close` was called: the stream takes nothing more from outside. */
  #endRequested = false
  #closed: Promise<void> | undefined

  constructor (request: FastifyRequest, reply: FastifyReply, writer: StreamWriter, handler: ChunkedHandler, options: StreamOptions, context: PluginContext, state: unknown, lastEventId: string | undefined) {
    this.#handler = handler
    this.#options = options
    this.#context = context
    this.token = new StreamToken(this, request, reply, lastEventId, state)
    this.output = new StreamOutput(writer, context.stats, options)
    this.#loop = new MailboxLoop(this, this.output, options, context.stats)
    context.streams.add(this)
    // From the start: a client that leaves while `init` runs ends the stream (and its upstream) at once.
    ;(reply.raw as unknown as Record<symbol, StreamActor>)[kActor] = this
    reply.raw.on('close', StreamActor.#onResponseClose)
  }

  /** Shared by every response (no closure per stream): the client went away before the end. */
  static #onResponseClose = function (this: RawReply): void {
    const actor = (this as unknown as Record<symbol, StreamActor | undefined>)[kActor]
    if (actor !== undefined && !this.writableFinished) void actor.#close('client-closed')
  }

  // ---- what the token asks ------------------------------------------------------------------

  get id (): string {
    if (this.#id === undefined) {
      this.#id = randomUUID()
      if (!this.#ending()) this.#context.byId.set(this.#id, this)
    }
    return this.#id
  }

  get log (): FastifyBaseLogger {
    return (this.#log ??= this.token.request.log.child({ streamId: this.id }))
  }

  get signal (): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController()
      if (this.#ending()) this.#abort.abort()
    }
    return this.#abort.signal
  }

  send (msg: unknown): void {
    this.#loop.enqueue(msg, true)
  }

  startTimer (ms: number, msg: unknown, repeat: boolean): () => void {
    if (this.#ending()) return noop
    return (this.#timers ??= new Timers(this)).start(ms, msg, repeat)
  }

  async subscribe (topic: string, options?: SubscribeOptions): Promise<void> {
    const fromStart = subscribeFromStart(options)
    // A source takes no messages: its published events would be consumed unwritten.
    if (this.#handler instanceof SourceDriver) {
      throw new InvalidHandlerError('a generator or source handler cannot subscribe: use topics() or an object handler with handle')
    }
    if (this.#ending()) return
    this.#topics ??= new TopicSide(this, this.#context.hub, this.token.lastEventId, this.#loop, this.output, this.#options, this.#context.stats, this.#handler.handle === undefined)
    const nothingLeft = await this.#topics.topics.subscribe(topic, fromStart)
    if (!nothingLeft) this.#loop.drain()
    else if (this.phase === 'opening') this.#noContent = true
    else void this.#close('topic-closed')
  }

  async unsubscribe (topic: string): Promise<void> {
    this.#topics?.topics.unsubscribe(topic)
  }

  close (final?: Chunk | Chunk[]): void {
    if (this.#loop.busy || this.phase === 'opening') this.#closeRequested = { final }
    else void this.#close('stopped', final)
  }

  // ---- from outside the handler --------------------------------------------------------------

  /** `app.sse.notify`: false when the handler takes no messages. */
  notify (msg: unknown): boolean {
    if (this.#endRequested) return false
    if (this.#handler.handleNotify !== undefined) return this.#loop.enqueue(new Notified(msg), true)
    if (this.#handler.handle === undefined) return false
    return this.#loop.enqueue(msg, true)
  }

  /** `app.sse.send`: chunks in order with what `handle` writes; a stream takes them with or without `handle`. */
  push (chunks: Chunk | Chunk[]): boolean {
    return !this.#endRequested && this.#loop.enqueue(new Sent(chunks), true)
  }

  /** `app.sse.close`: ends the stream once what its mailbox holds was handled; nothing is taken after it. */
  end (final: Chunk | Chunk[] | undefined): boolean {
    if (this.#endRequested) return false
    this.#endRequested = true
    return this.#loop.enqueue(new CloseRequested(final), false)
  }

  fire (timer: Timer): void {
    if (timer.repeat) {
      if (timer.queued) return
      timer.queued = true
    }
    this.#loop.enqueue(timer, true)
  }

  replayFailed (): void {
    void this.#close('error')
  }

  /** Ends the stream for `fastify.close()`: a jittered `retry:` first, then `terminate('shutdown')`. */
  shutdown (retry: number): Promise<void> {
    if (this.phase === 'open' && this.#options.rules.eventStream) this.output.writeRaw(`retry: ${retry}\n\n`)
    return this.#close('shutdown')
  }

  /** The transport saw the client go (a WebSocket's close). */
  clientLeft (): void {
    void this.#close('client-closed')
  }

  /** Cuts the connection: for a client that does not read while the server shuts down. */
  kill (): void {
    this.output.writer.destroy()
  }

  // ---- opening -------------------------------------------------------------------------------

  /** Runs `init`. Throws what `init` threw, after `terminate('error')`. */
  async init (): Promise<Opening> {
    let result: InitResult
    try {
      const init = this.#handler.init?.(this.token)
      this.#initializing = init instanceof Promise ? init.catch(noop) : undefined
      result = await init
    } catch (error) {
      if (this.#closedFor !== undefined) return { kind: 'gone', reason: this.#closedFor } // its error is the end's
      await this.#close('error')
      throw error
    } finally {
      this.#initializing = undefined
    }
    if (this.#closedFor !== undefined) return { kind: 'gone', reason: this.#closedFor }
    const outcome = outcomeOf(result)
    if (this.#noContent || outcome === 'no-content' || outcome === 'shutdown') {
      await this.#close('stopped')
      return { kind: 'refused', result: this.#noContent ? noContent() : result }
    }
    return { kind: 'open', initial: result }
  }

  /** Sends the headers and what `init` returned, then starts taking messages. */
  open (status: number, headers: Record<string, string | number | string[]>, initial: InitResult): void {
    if (this.output.writer.destroyed) {
      void this.#close('client-closed') // gone between init and now: its 'close' is on its way
      return
    }
    this.phase = nextPhase(this.phase, 'open')
    this.output.writer.open(status, headers)
    if (this.#options.retry !== undefined && this.#options.rules.eventStream) this.output.writeRaw(`retry: ${this.#options.retry}\n\n`)
    if (this.#options.heartbeat !== false) this.#context.heartbeats.add(this.output, this.#options.heartbeat)
    if (outcomeOf(initial) === 'stop') {
      void this.#close('stopped', (initial as Stop).final)
      return
    }
    this.#apply(initial as HandleResult, undefined)
    this.#loop.drain()
  }

  // ---- handling messages -------------------------------------------------------------------

  /** Handles one message; returns a promise when `handle` is async. */
  process (msg: unknown): Promise<void> | undefined {
    if (msg instanceof Timer) {
      msg.queued = false
      msg = msg.msg
    } else if (isPublished(msg)) {
      const published = msg
      if (!this.#topics!.topics.advance(published)) return undefined
      if (this.#handler.handle === undefined) return this.#run(() => this.output.writeChunk(published.event, published))
    } else if (msg instanceof TopicReset) {
      const { topic, position } = msg
      this.#topics?.topics.jump(topic, position)
      return this.#run(() => this.output.writeChunk(new Event({ event: 'reset', data: topic })))
    } else if (msg instanceof TopicClosed) {
      void this.#close('topic-closed', msg.final)
      return undefined
    } else if (msg instanceof ReplayMore) {
      msg.next()
      return undefined
    } else if (msg instanceof Sent) {
      const { chunks } = msg
      return this.#run(() => this.output.writeChunks(chunks))
    } else if (msg instanceof CloseRequested) {
      void this.#close('stopped', msg.final)
      return undefined
    }
    let result: HandleResult | Promise<HandleResult>
    try {
      result = msg instanceof Notified ? this.#handler.handleNotify!(msg.msg, this.token) : this.#handler.handle?.(msg, this.token)
    } catch (error) {
      this.#fail(error, msg)
      return undefined
    }
    if (result instanceof Promise) return result.then((value) => this.#apply(value, msg), (error: unknown) => this.#fail(error, msg))
    this.#apply(result, msg)
    return undefined
  }

  caughtUp (): void {
    this.output.writePendingCursor()
  }

  overflow (): void {
    void this.#close('overflow')
  }

  #run (write: () => void): undefined {
    try {
      write()
    } catch (error) {
      this.#fail(error, undefined)
    }
    return undefined
  }

  #apply (result: HandleResult, msg: unknown): void {
    if (this.phase !== 'open') return
    try {
      if (result instanceof Event) this.output.writeChunk(result, msg) // the common case, first
      else if (outcomeOf(result) === 'stop') {
        void this.#close((result as Stop).reason, (result as Stop).final)
        return
      } else this.output.writeChunks(result as Chunk | Chunk[] | undefined, msg)
    } catch (error) {
      this.#fail(error, msg)
      return
    }
    const requested = this.#closeRequested
    if (requested !== undefined) void this.#close('stopped', requested.final)
  }

  #fail (error: unknown, msg: unknown): void {
    // A stream that is ending aborts what its handler awaits: that rejection is the end, not a failure.
    if (this.phase !== 'open') return
    const err = error instanceof Error ? error : new Error(String(error))
    this.log.error({ err }, 'chunked handler failed: the stream ends')
    try {
      this.#handler.handleError?.(err, msg, this.token)
    } catch (handleErrorFailure) {
      this.log.error({ err: handleErrorFailure }, 'handleError threw')
    }
    void this.#close('error')
  }

  #ending (): boolean {
    return this.phase === 'closing' || this.phase === 'closed'
  }

  // ---- closing -------------------------------------------------------------------------------

  #close (reason: CloseReason, final?: Chunk | Chunk[]): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#closedFor = reason
    return (this.#closed = this.#closeOnce(reason, final))
  }

  async #closeOnce (reason: CloseReason, final: Chunk | Chunk[] | undefined): Promise<void> {
    const rule = closeRules[reason]
    const wasOpen = this.phase === 'open'
    this.phase = nextPhase(this.phase, 'closing')
    this.#release()
    if (rule.counts !== undefined) this.#context.stats[rule.counts]++
    const writable = wasOpen && rule.writable && !this.output.writer.destroyed
    if (writable) this.#writeQuietly(final)
    if (this.#initializing !== undefined) await this.#initializing // terminate comes after init, always
    let last: void | Chunk | Chunk[] = undefined
    try {
      last = await this.#handler.terminate?.(reason, this.token)
    } catch (error) {
      this.log.error({ err: error }, 'terminate threw')
    }
    if (writable && rule.writesTerminate) this.#writeQuietly(last)
    if (wasOpen) {
      if (rule.destroys) this.output.writer.destroy()
      // Still counted while its last bytes wait; a client that never reads them is cut at drainTimeout.
      await this.output.writer.end(this.#options.drainTimeout, reason)
    }
    this.#context.streams.delete(this)
    this.phase = nextPhase(this.phase, 'closed')
  }

  #writeQuietly (chunks: Chunk | Chunk[] | void): void {
    try {
      this.output.writeChunks(chunks)
    } catch (error) {
      this.log.error({ err: error }, 'a last chunk could not be written')
    }
  }

  /** Everything the stream acquired, released on one path whatever ended it. */
  #release (): void {
    this.#abort?.abort()
    this.#timers?.clear()
    this.#topics?.topics.leaveAll()
    if (this.#options.heartbeat !== false) this.#context.heartbeats.remove(this.output, this.#options.heartbeat)
    this.#context.stats.messagesDropped += this.#loop.release()
    if (this.#id !== undefined) this.#context.byId.delete(this.#id)
  }
}

function noop (): void {}
