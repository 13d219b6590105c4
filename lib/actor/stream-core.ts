import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Chunk } from '../protocol/encoders.js'
import { noContent, outcomeOf, type Stop } from '../results.js'
import { partingWords, retryBlock } from '../send-away.js'
import type { ChunkedHandler, CloseReason, HandleResult, InitResult } from '../types.js'
import { closeRules } from './close-rules.js'
import type { PluginContext, StreamByIdentity, StreamOptions } from './context.js'
import { nextPhase, type Phase } from './lifecycle.js'
import { MailboxLoop } from './mailbox-loop.js'
import { type Timer, Timers, type TimerOwner } from './timers.js'
import { StreamToken, type TokenOwner } from './token.js'
import type { RawReply, StreamWriter } from './writer.js'

/** Error codes that only mean the client went away: its 'close' ends the stream ('client-closed'). */
const CLIENT_LEFT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_INVALID_STREAM'])

/** The response's own stream, for the one `close` listener all responses share. */
const kActor = Symbol('fastify-sse-actors.stream')

/** What `init` decided, for the route function to act on. */
export type Opening =
  | { kind: 'open', initial: InitResult }
  | { kind: 'refused', result: InitResult }
  /** The stream ended while `init` ran: the client left, or the server is shutting down. */
  | { kind: 'gone', reason: CloseReason }

/**
 * One streaming reply's lifecycle: its parts (token, output, mailbox loop, timers, topics), its
 * opening (`init`, then the headers) and its end, on one path whatever the reason: everything it
 * acquires is released by `#release`. What each message does is `StreamActor`'s. The handler sees
 * neither: only its `token`.
 */
export abstract class StreamCore extends MailboxLoop implements TimerOwner {
  readonly token: StreamToken
  protected readonly handler: ChunkedHandler
  protected readonly context: PluginContext
  override phase: Phase = 'opening'
  #id: string | undefined
  #log: FastifyBaseLogger | undefined
  #abort: AbortController | undefined
  #timers: Timers | undefined
  /** `close(final)` was called while a message was handled: the stream ends once it is written. */
  protected closeRequested: { final: Chunk | Chunk[] | undefined } | undefined
  /** A topic that init subscribed to is closed, with nothing left to replay: answer 204. */
  protected noContent = false
  /** The handler's `init` while it runs: `terminate` waits for it. */
  #initializing: Promise<unknown> | undefined
  #closedFor: CloseReason | undefined
  #closed: Promise<void> | undefined

  constructor (request: FastifyRequest, reply: FastifyReply, writer: StreamWriter, handler: ChunkedHandler, options: StreamOptions, context: PluginContext, state: unknown, lastEventId: string | undefined) {
    super(writer, options, context.stats)
    this.handler = handler
    this.context = context
    this.token = new StreamToken(this as unknown as TokenOwner, request, reply, lastEventId, state)
    context.streams.add(this)
    // From the start: a client that leaves while `init` runs ends the stream (and its upstream) at once.
    ;(reply.raw as unknown as Record<symbol, StreamCore>)[kActor] = this
    reply.raw.on('close', StreamCore.#onResponseClose)
  }

  /** A write to the client failed (not its leaving): `handleError`, then `terminate('error')`. */
  abstract writeFailed (error: Error): void

  /** Shared by every response (no closure per stream): the client went away before the end. */
  static #onResponseClose = function (this: RawReply): void {
    const actor = (this as unknown as Record<symbol, StreamCore | undefined>)[kActor]
    // Also after the stream's own end (closing again is nothing): an HTTP/2 response reset by its
    // client says writableFinished, so that is no sign the client is still there.
    if (actor === undefined) return
    // The socket went with an error: the client leaving (a reset, a broken pipe), or a write that
    // failed for another reason, which is the handler's to hear of. No listener per stream for it.
    // (HTTP/1 only: an HTTP/2 response's socket is the session's, and may be gone already.)
    const error = 'stream' in this ? undefined : (this.socket as { errored?: (Error & { code?: string }) | null } | null)?.errored
    if (error != null && !CLIENT_LEFT.has(error.code ?? '')) actor.writeFailed(error)
    else void actor.closeFor('client-closed')
  }

  // ---- what the token asks ------------------------------------------------------------------

  get id (): string {
    if (this.#id === undefined) {
      this.#id = randomUUID()
      if (!this.ending()) this.context.byId.set(this.#id, this as unknown as StreamByIdentity)
    }
    return this.#id
  }

  get log (): FastifyBaseLogger {
    return (this.#log ??= this.token.request.log.child({ streamId: this.id }))
  }

  get signal (): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController()
      if (this.ending()) this.#abort.abort()
    }
    return this.#abort.signal
  }

  startTimer (ms: number, msg: unknown, repeat: boolean): () => void {
    if (this.ending()) return noop
    return (this.#timers ??= new Timers(this)).start(ms, msg, repeat)
  }

  // ---- from outside the handler --------------------------------------------------------------

  fire (timer: Timer): void {
    if (timer.repeat) {
      if (timer.queued) return
      timer.queued = true
    }
    this.enqueue(timer, true)
  }

  /** Ends the stream for `fastify.close()`: sent away (a jittered `retry:` on SSE), then `terminate('shutdown')`. */
  endForAppClose (retry: number): Promise<void> {
    const parting = this.phase === 'open' ? partingWords(this.options.rules, retry) : undefined
    if (parting !== undefined) this.writeRaw(parting)
    return this.closeFor('shutdown')
  }

  /** The transport saw the client go (a WebSocket's close). */
  clientLeft (): void {
    void this.closeFor('client-closed')
  }

  /** Cuts the connection: for a client that does not read while the server shuts down. */
  kill (): void {
    this.writer.destroy()
  }

  // ---- opening -------------------------------------------------------------------------------

  /**
   * Runs `init`. Throws (or rejects with) what `init` threw, after `terminate('error')`. Settled at
   * once when `init` returns at once and the stream opens: no turn of the event loop, no promise.
   */
  init (): Opening | Promise<Opening> {
    let init: InitResult | PromiseLike<InitResult>
    let later: boolean
    try {
      init = this.handler.init?.(this.token)
      later = typeof (init as PromiseLike<InitResult> | undefined)?.then === 'function' // a getter may throw too
    } catch (error) {
      return this.#initFailed(error)
    }
    return later ? this.#initLater(init as PromiseLike<InitResult>) : this.#initialized(init as InitResult)
  }

  async #initLater (init: PromiseLike<InitResult>): Promise<Opening> {
    const running = Promise.resolve(init)
    this.#initializing = running.catch(noop)
    let result: InitResult
    try {
      result = await running
    } catch (error) {
      return await this.#initFailed(error)
    } finally {
      this.#initializing = undefined
    }
    return await this.#initialized(result)
  }

  async #initFailed (error: unknown): Promise<Opening> {
    if (this.#closedFor !== undefined) return { kind: 'gone', reason: this.#closedFor } // its error is the end's
    await this.closeFor('error')
    throw error
  }

  #initialized (result: InitResult): Opening | Promise<Opening> {
    if (this.#closedFor !== undefined) return { kind: 'gone', reason: this.#closedFor }
    const outcome = outcomeOf(result)
    if (this.noContent || outcome === 'no-content' || outcome === 'shutdown') return this.#refused(result)
    return { kind: 'open', initial: result }
  }

  async #refused (result: InitResult): Promise<Opening> {
    await this.closeFor('stopped')
    return { kind: 'refused', result: this.noContent ? noContent() : result }
  }

  /** Sends the headers and what `init` returned, then starts taking messages. */
  open (status: number, headers: Record<string, string | number | string[]>, initial: InitResult): void {
    if (this.writer.destroyed) {
      void this.closeFor('client-closed') // gone between init and now: its 'close' is on its way
      return
    }
    this.phase = nextPhase(this.phase, 'open')
    try {
      this.writer.open(status, headers)
    } catch (error) {
      // A header Node refuses (a hook set a value with a control character): the client is cut, not
      // left waiting for the rest of a head, and the stream ends now rather than when it leaves.
      this.writer.destroy()
      this.log.error({ err: error }, 'the stream could not send its head: it ends')
      void this.closeFor('error')
      return
    }
    if (this.options.retry !== undefined && this.options.rules.eventStream) this.writeRaw(retryBlock(this.options.retry))
    if (this.options.heartbeat !== false) this.context.heartbeats.add(this, this.options.heartbeat)
    if (outcomeOf(initial) === 'stop') {
      void this.closeFor('stopped', (initial as Stop).final)
      return
    }
    this.apply(initial as HandleResult, undefined)
    this.drain()
  }

  override caughtUp (): void {
    this.writePendingCursor()
  }

  override overflow (): void {
    void this.closeFor('overflow')
  }

  protected ending (): boolean {
    return this.phase === 'closing' || this.phase === 'closed'
  }

  /** Writes what the handler returned for `msg`, or ends the stream as it asked. */
  protected abstract apply (result: HandleResult, msg: unknown): void

  // ---- closing -------------------------------------------------------------------------------

  protected closeFor (reason: CloseReason, final?: Chunk | Chunk[]): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#closedFor = reason
    return (this.#closed = this.#closeOnce(reason, final))
  }

  async #closeOnce (reason: CloseReason, final: Chunk | Chunk[] | undefined): Promise<void> {
    const rule = closeRules[reason]
    const wasOpen = this.phase === 'open'
    this.phase = nextPhase(this.phase, 'closing')
    this.#release()
    if (rule.counts !== undefined) this.context.stats[rule.counts]++
    const writable = wasOpen && rule.writable && !this.writer.destroyed
    if (writable) this.#writeQuietly(final)
    if (this.#initializing !== undefined) await this.#initializing // terminate comes after init, always
    const last = await this.#terminate(reason)
    if (writable && rule.writesTerminate) this.#writeQuietly(last)
    if (wasOpen && reason !== 'client-closed') {
      if (rule.destroys) this.writer.destroy()
      // Still counted while its last bytes wait; a client that never reads them is cut at drainTimeout.
      await this.writer.end(this.options.drainTimeout, reason)
    }
    this.context.streams.delete(this)
    this.phase = nextPhase(this.phase, 'closed')
  }

  /** The handler's `terminate`, exactly once; what it throws is logged, never the stream's end's problem. */
  async #terminate (reason: CloseReason): Promise<void | Chunk | Chunk[]> {
    try {
      return await this.handler.terminate?.(reason, this.token)
    } catch (error) {
      this.log.error({ err: error }, 'terminate threw')
      return undefined
    }
  }

  #writeQuietly (chunks: Chunk | Chunk[] | void): void {
    try {
      this.writeChunks(chunks)
    } catch (error) {
      this.log.error({ err: error }, 'a last chunk could not be written')
    }
  }

  /** Everything the stream acquired, released on one path whatever ended it. */
  #release (): void {
    this.#abort?.abort()
    this.#timers?.clear()
    this.topics?.leaveAll()
    if (this.options.heartbeat !== false) this.context.heartbeats.remove(this, this.options.heartbeat)
    this.context.stats.messagesDropped += this.releaseMailbox()
    if (this.#id !== undefined) this.context.byId.delete(this.#id)
  }
}

function noop (): void {}
