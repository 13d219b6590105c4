import { InvalidHandlerError } from '../errors.js'
import type { Chunk } from '../protocol/encoders.js'
import { Event } from '../protocol/event.js'
import { outcomeOf, type Stop } from '../results.js'
import type { TopicPosition } from '../broker/types.js'
import { isPublished, type Published } from '../topics/published.js'
import { StreamTopics, type StreamTopicsOwner } from '../topics/stream-topics.js'
import { SUBSCRIBED, subscribeFromStart } from '../topics/subscribe-options.js'
import type { HandleResult, SubscribeOptions } from '../types.js'
import { CloseRequested, Notice, Notified, ReplayMore, Sent, TopicClosed, TopicReset } from './notices.js'
import { SourceDriver } from './source.js'
import { StreamCore } from './stream-core.js'
import { Timer } from './timers.js'
import type { TokenOwner } from './token.js'

/**
 * One streaming reply, as its messages see it: what the token asks (send, subscribe, close), what
 * comes from outside (notify, send, close by id), and what each message does, one at a time, in
 * order, to completion. Its lifecycle, opening and closing on one path are `StreamCore`'s.
 */
export class StreamActor extends StreamCore implements TokenOwner, StreamTopicsOwner {
  /** `app.sse.close` was called: the stream takes nothing more from outside. */
  #endRequested = false
  /** Relays topic events as they came, in SSE: their shared bytes may be written as they arrive. */
  readonly #relaysShared = this.handler.handle === undefined && this.options.rules.eventStream

  send (msg: unknown): void {
    this.enqueue(msg, true)
  }

  subscribe (topic: string, options?: SubscribeOptions): Promise<void> {
    try {
      const subscribing = this.#subscribe(topic, options)
      return subscribing === undefined ? SUBSCRIBED : subscribing
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Undefined when subscribed at once (the memory broker, while opening): nothing waits a turn for it. */
  #subscribe (topic: string, options: SubscribeOptions | undefined): Promise<void> | undefined {
    const fromStart = subscribeFromStart(options)
    // A source takes no messages: its published events would be consumed unwritten.
    if (this.handler instanceof SourceDriver) {
      throw new InvalidHandlerError('a generator or source handler cannot subscribe: use topics() or an object handler with handle')
    }
    if (this.ending()) return undefined
    this.topics ??= new StreamTopics(this.context.hub, this, this.token.lastEventId, this.options.maxTopicsPerStream)
    const subscribing = this.topics.subscribe(topic, fromStart, this.phase === 'opening')
    if (typeof subscribing !== 'boolean') return subscribing.then((nothingLeft) => this.#subscribed(nothingLeft))
    this.#subscribed(subscribing)
    return undefined
  }

  #subscribed (nothingLeft: boolean): void {
    if (!nothingLeft) this.drain()
    else if (this.phase === 'opening') this.noContent = true
    else void this.closeFor('topic-closed')
  }

  async unsubscribe (topic: string): Promise<void> {
    this.topics?.unsubscribe(topic)
  }

  close (final?: Chunk | Chunk[]): void {
    if (this.busy || this.phase === 'opening') this.closeRequested = { final }
    else void this.closeFor('stopped', final)
  }

  /** `app.sse.notify`: false when the handler takes no messages. */
  notify (msg: unknown): boolean {
    if (this.#endRequested) return false
    if (this.handler.handleNotify !== undefined) return this.enqueue(new Notified(msg), true)
    if (this.handler.handle === undefined) return false
    return this.enqueue(msg, true)
  }

  /** `app.sse.send`: chunks in order with what `handle` writes; a stream takes them with or without `handle`. */
  push (chunks: Chunk | Chunk[]): boolean {
    return !this.#endRequested && this.enqueue(new Sent(chunks), true)
  }

  /** `app.sse.close`: ends the stream once what its mailbox holds was handled; nothing is taken after it. */
  end (final: Chunk | Chunk[] | undefined): boolean {
    if (this.#endRequested) return false
    this.#endRequested = true
    return this.enqueue(new CloseRequested(final), false)
  }

  // ---- what its topics deliver (StreamTopics and its subscriptions) --------------------------

  enqueuePublished (published: Published, replayed: boolean): void {
    // The fan-out's hot path, decided in a few reads: an idle SSE stream that relays its one topic
    // moves its cursor and writes the event's shared bytes at once. Anything else takes the mailbox.
    if (this.#relaysShared && this.idle() && this.topics!.advanceSole(published)) {
      this.writeShared(published)
      return
    }
    this.enqueue(published, !replayed)
  }

  topicClosed (final: Event | undefined): void {
    this.enqueue(new TopicClosed(final), false)
  }

  reset (topic: string, position?: TopicPosition): void {
    this.stats.resets++
    this.enqueue(new TopicReset(topic, position), false)
  }

  replayMore (next: () => void): void {
    this.enqueue(new ReplayMore(next), false)
  }

  replayFailed (error: unknown): void {
    this.log.warn({ err: error }, 'the replay could not be read: the stream ends, the client resumes by its cursor')
    void this.closeFor('error')
  }

  resumed (): void {
    this.stats.replays++
  }

  /** Handles one message; returns a promise when `handle` is async. */
  override process (msg: unknown): Promise<void> | undefined {
    if (msg instanceof Timer) {
      msg.queued = false
      msg = msg.msg
    } else if (isPublished(msg)) {
      const published = msg
      if (!this.topics!.advance(published)) return undefined
      if (this.handler.handle === undefined) return this.#run(() => this.writeChunk(published.event, published))
    } else if (msg instanceof Notice) {
      return this.#notice(msg)
    }
    let result: HandleResult | Promise<HandleResult>
    try {
      result = msg instanceof Notified ? this.handler.handleNotify!(msg.msg, this.token) : this.handler.handle?.(msg, this.token)
    } catch (error) {
      this.#fail(error, msg)
      return undefined
    }
    if (result instanceof Promise) return result.then((value) => this.apply(value, msg), (error: unknown) => this.#fail(error, msg))
    this.apply(result, msg)
    return undefined
  }

  /** The plugin's own messages: none reaches the handler. */
  #notice (msg: Notice): undefined {
    if (msg instanceof TopicReset) {
      const { topic, position } = msg
      this.topics?.jump(topic, position)
      return this.#run(() => this.writeChunk(new Event({ event: 'reset', data: topic })))
    }
    if (msg instanceof Sent) {
      const { chunks } = msg
      return this.#run(() => this.writeChunks(chunks))
    }
    if (msg instanceof ReplayMore) msg.next()
    else if (msg instanceof TopicClosed) void this.closeFor('topic-closed', msg.final)
    else if (msg instanceof CloseRequested) void this.closeFor('stopped', msg.final)
    return undefined
  }

  #run (write: () => void): undefined {
    try {
      write()
    } catch (error) {
      this.#fail(error, undefined)
    }
    return undefined
  }

  protected apply (result: HandleResult, msg: unknown): void {
    if (this.phase !== 'open') return
    try {
      if (result instanceof Event) this.writeChunk(result, msg) // the common case, first
      else if (outcomeOf(result) === 'stop') {
        void this.closeFor((result as Stop).reason, (result as Stop).final)
        return
      } else this.writeChunks(result as Chunk | Chunk[] | undefined, msg)
    } catch (error) {
      this.#fail(error, msg)
      return
    }
    const requested = this.closeRequested
    if (requested !== undefined) void this.closeFor('stopped', requested.final)
  }

  writeFailed (error: Error): void {
    this.#fail(error, undefined)
  }

  #fail (error: unknown, msg: unknown): void {
    // A stream that is ending aborts what its handler awaits: that rejection is the end, not a failure.
    if (this.phase !== 'open') return
    const err = error instanceof Error ? error : new Error(String(error))
    this.log.error({ err }, 'chunked handler failed: the stream ends')
    try {
      this.handler.handleError?.(err, msg, this.token)
    } catch (handleErrorFailure) {
      this.log.error({ err: handleErrorFailure }, 'handleError threw')
    }
    void this.closeFor('error')
  }
}
