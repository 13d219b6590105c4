import type { Dispatcher } from 'undici'
import type { ParsedEvent } from './parser.js'
import type { RestartPolicy } from './restart.js'
import type { StreamRequest, StreamResponse } from './resumable-stream.js'

// The SseClient's types, apart from the class: the machine that drives it needs them too.

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
 * `client.send()` its result to `handleInfo`. A callback that throws stops the client (`closed`
 * rejects with the error), or restarts it from `init` under the `restart` option. So does one whose
 * result, or its `connect` request, has a key it does not know (an SSE_ERR_INVALID_OPTION): a
 * misspelt `lastEventID` is never ignored.
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
  /**
   * Which ends of the handler's run start it again, from `init(state)` with the state given to
   * `start` and a new connection (the old one is closed), as an Elixir supervisor restarts a child:
   * `'temporary'` (default) none, a callback that throws stops the client and `closed` rejects;
   * `'transient'` a callback that throws; `'permanent'` that too, and a stop a callback returns or a
   * 204. `client.stop()` is a shutdown, never restarted. Restarts wait a jittered backoff (250-500 ms,
   * then doubling).
   */
  restart?: RestartPolicy
  /**
   * The most restarts allowed within `restartWindow`; one more and the client stops for good:
   * `closed` rejects with the last error (a ClientRestartLimitError after a normal stop). Default 3.
   */
  maxRestarts?: number
  /** The window, in ms, over which `maxRestarts` is counted. Default 5000. */
  restartWindow?: number
}

/** How a client stopped: the reason (`'no-content'` for a 204, or what `stop` was given) and its last state. */
export interface SseClientStopped<State> {
  reason: unknown
  state: State
}

/** `restarting`: waiting the backoff between two runs of the handler (see the `restart` option). */
export type SseClientStatus = 'idle' | 'connecting' | 'open' | 'waiting' | 'restarting' | 'stopped'
