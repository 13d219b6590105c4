import { createActor, type Actor } from 'xstate'
import type { Dispatcher } from 'undici'
import { refuseUnknownKeys } from '../check-keys.js'
import { clientMachine } from './client-machine.js'
import { optionNames } from './option-names.js'
import { maxEventSizeOption, type ParsedEvent } from './parser.js'
import type { StreamRequest, StreamResponse } from './resumable-stream.js'

/** Where to connect, and when. */
export interface ConnectRequest extends StreamRequest {
  /**
   * Wait this long (ms) before connecting, instead of the client's own delay: none after `init`,
   * `handleConnect` and `handleInfo`; the server's `retry` after a disconnect; backoff with jitter (or
   * the server's `Retry-After`) after a failure. Taken as given, without the MIN_RETRY floor of the
   * client's own delays: the handler knows why it waits.
   */
  delay?: number
}

/** (Re)connect with this request; a connection that is open is closed first. */
export interface ConnectNext<State> { connect: ConnectRequest, state?: State, stop?: never }
/** Stop the client: `closed` resolves with this reason. */
export interface StopNext<State> { stop: unknown, state?: State, connect?: never }
/** Carry on (Elixir's `:noreply`): stay connected, or stay idle until a message says otherwise. */
export interface NoReply<State> { state: State, connect?: never, stop?: never }

/**
 * What a callback returns: what happens next, and the new state (left out or `undefined`: the state
 * is unchanged).
 */
export type Next<State> = ConnectNext<State> | StopNext<State> | NoReply<State> | undefined | void

/** Why an open stream ended: the server ended it (`'end'`), or the error that cut it. */
export type DisconnectReason = 'end' | Error

/**
 * The behaviour of a client (Elixir's `ServerSentEvent.Client`). Callbacks run one at a time, in
 * order, and are synchronous: to wait for something (a fresh token), start it, return nothing, and
 * `client.send()` its result to `handleInfo`. A callback that throws stops the client: `closed`
 * rejects with the error. So does one whose result, or its `connect` request, has a key it does not
 * know (an SSE_ERR_INVALID_OPTION): a misspelt `lastEventID` is never ignored.
 */
export interface SseClientHandler<State, Msg = never> {
  /** When the client starts: usually `{ connect: { url } }`. */
  init (state: State): Next<State>
  /** The stream opened (status 200). Default: carry on. */
  handleConnect? (response: StreamResponse, state: State): Next<State>
  /**
   * An attempt did not open: a network error, a ClientStatusError (with `status`, and `retryAfter`
   * for a 429 or 503 that sent `Retry-After`), a ClientContentTypeError or a ClientRedirectError.
   * Default: connect again to the same request with backoff, but throw (stop the client with the
   * error) when trying again cannot help (a status other than 429/503 with `Retry-After`, a wrong
   * content type, a redirect that cannot be followed, an invalid request).
   */
  handleConnectFailure? (reason: Error, state: State): Next<State>
  /**
   * An open stream ended: `'end'`, or the error that cut it, a ClientEventTooLargeError when a line
   * or an event grew past `maxEventSize` (the request is ended). Default: connect again to the same
   * request after the server's `retry`, but throw a ClientEventTooLargeError (stop the client with
   * it): the server would send the same again.
   */
  handleDisconnect? (reason: DisconnectReason, state: State): Next<State>
  /** An event: returns the new state. The client keeps the last event id for the reconnection. */
  handleEvent (event: ParsedEvent, state: State): State
  /** A message from `client.send()`. Default: ignore it. */
  handleInfo? (msg: Msg, state: State): Next<State>
}

export interface SseClientOptions {
  /** The reconnection delay in ms until the server sends `retry:`, never below MIN_RETRY. Default 3000. */
  retry?: number
  /** Resume after this event: the first `Last-Event-ID`. */
  lastEventId?: string
  /** The undici dispatcher to send requests through. Default: undici's global one. */
  dispatcher?: Dispatcher
  /** The most a line or an event's data may take, in bytes (see ParserOptions). Default 16 MiB. */
  maxEventSize?: number
}

const CLIENT_OPTIONS = optionNames<SseClientOptions>({
  retry: true, lastEventId: true, dispatcher: true, maxEventSize: true
})

/** How a client stopped: the reason (`'no-content'` for a 204, or what `stop` was given) and its last state. */
export interface SseClientStopped<State> {
  reason: unknown
  state: State
}

export type SseClientStatus = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped'

/**
 * A reconnecting event stream client driven by a handler, whose lifecycle (idle, connecting, open,
 * waiting, stopped) is an xstate machine.
 */
export class SseClient<State, Msg = never> {
  /**
   * Settles once the client has stopped; rejects with the error of a callback that threw (the default
   * ones throw an error trying again cannot help with). Never an unhandled rejection.
   */
  readonly closed: Promise<SseClientStopped<State>>
  readonly #actor: Actor<typeof clientMachine>

  private constructor (handler: SseClientHandler<State, Msg>, state: State, options: SseClientOptions) {
    // A wrong option throws from start(), not from the machine.
    refuseUnknownKeys(options, CLIENT_OPTIONS, 'SseClientOptions')
    maxEventSizeOption(options.maxEventSize)
    // Even an actor that errors leaves the request it invoked running (xstate does not stop the
    // children of an actor that errors): this signal ends it whatever way the client stops.
    const stopped = new AbortController()
    this.#actor = createActor(clientMachine, {
      input: { handler: handler as SseClientHandler<unknown, unknown>, state, options, signal: stopped.signal }
    })
    this.closed = new Promise((resolve, reject) => {
      // An error observer also keeps xstate from rethrowing a callback's error as an uncaught exception.
      this.#actor.subscribe({
        complete: () => {
          stopped.abort()
          const { context } = this.#actor.getSnapshot()
          resolve({ reason: context.reason, state: context.state as State })
        },
        error: (error) => {
          stopped.abort()
          reject(error)
        }
      })
    })
    // Whoever awaits `closed` still gets the rejection; an app that does not (yet) must not crash.
    this.closed.catch(() => {})
  }

  /** Starts a client: calls `handler.init(state)` at once. */
  static start<State, Msg = never> (handler: SseClientHandler<State, Msg>, state: State, options: SseClientOptions = {}): SseClient<State, Msg> {
    const client = new SseClient(handler, state, options)
    client.#actor.start()
    return client
  }

  /** Delivers `msg` to `handleInfo`, after the callback that is running, if any. Ignored once stopped. */
  send (msg: Msg): void {
    if (this.#actor.getSnapshot().status === 'active') this.#actor.send({ type: 'info', msg })
  }

  /** Stops the client and ends its request; `closed` resolves with `reason`. */
  stop (reason: unknown = 'stopped'): void {
    if (this.#actor.getSnapshot().status === 'active') this.#actor.send({ type: 'stop', reason })
  }

  get status (): SseClientStatus {
    const snapshot = this.#actor.getSnapshot()
    if (snapshot.status !== 'active') return 'stopped'
    return snapshot.matches({ connection: 'open' }) ? 'open' : snapshot.matches('connection') ? 'connecting' : snapshot.value as 'idle' | 'waiting'
  }

  /** The id of the last event handled: sent as `Last-Event-ID` on the next connection. */
  get lastEventId (): string {
    return this.#actor.getSnapshot().context.stream.lastEventId
  }
}
