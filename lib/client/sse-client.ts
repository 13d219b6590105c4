import { createActor, type Actor } from 'xstate'
import { refuseUnknownKeys } from '../check-keys.js'
import { clientMachine } from './client-machine.js'
import type { SseClientHandler, SseClientOptions, SseClientStatus, SseClientStopped } from './client-types.js'
import { optionNames } from './option-names.js'
import { maxEventSizeOption } from './parser.js'
import { supervisionOptions } from './restart.js'

/** The keys SseClient.start's options may have: any other is refused. */
const CLIENT_OPTIONS = optionNames<SseClientOptions>({
  retry: true, lastEventId: true, dispatcher: true, maxEventSize: true, restart: true, maxRestarts: true, restartWindow: true
})

/**
 * A reconnecting event stream client driven by a handler, whose lifecycle (idle, connecting, open,
 * waiting, restarting, stopped) is an xstate machine.
 */
export class SseClient<State, Msg = never> {
  /**
   * Settles once the client has stopped for good; rejects with the error of a callback that threw
   * (the default ones throw an error trying again cannot help with) and was not restarted, or with
   * what made the supervision give up. Never an unhandled rejection.
   */
  readonly closed: Promise<SseClientStopped<State>>
  readonly #actor: Actor<typeof clientMachine>

  private constructor (handler: SseClientHandler<State, Msg>, state: State, options: SseClientOptions) {
    // A wrong option throws from start(), not from the machine.
    refuseUnknownKeys(options, CLIENT_OPTIONS, 'SseClientOptions')
    maxEventSizeOption(options.maxEventSize)
    const supervision = supervisionOptions(options)
    // Even an actor that errors leaves the request it invoked running (xstate does not stop the
    // children of an actor that errors): this signal ends it whatever way the client stops.
    const stopped = new AbortController()
    this.#actor = createActor(clientMachine, {
      input: { handler: handler as SseClientHandler<unknown, unknown>, state, options, supervision, signal: stopped.signal }
    })
    this.closed = new Promise((resolve, reject) => {
      // An error observer also keeps xstate from rethrowing a callback's error as an uncaught exception.
      this.#actor.subscribe({
        complete: () => {
          stopped.abort()
          const { context } = this.#actor.getSnapshot()
          if (context.failed) reject(context.reason)
          else resolve({ reason: context.reason, state: context.state as State })
        },
        // Only an error of the client's own: the handler's are caught by the machine.
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

  /**
   * Delivers `msg` to `handleInfo`, after the callback that is running, if any. Ignored once stopped,
   * and dropped while restarting (as a message to a process being restarted is).
   */
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
    if (snapshot.matches('restarting')) return 'restarting'
    if (snapshot.matches({ running: { connection: 'open' } })) return 'open'
    if (snapshot.matches({ running: 'connection' })) return 'connecting'
    return snapshot.matches({ running: 'waiting' }) ? 'waiting' : 'idle'
  }

  /** How many times the handler was restarted (see the `restart` option). */
  get restarts (): number {
    return this.#actor.getSnapshot().context.restarts
  }

  /** The id of the last event handled: sent as `Last-Event-ID` on the next connection. */
  get lastEventId (): string {
    return this.#actor.getSnapshot().context.stream.lastEventId
  }
}

export type { ConnectNext, ConnectRequest, DisconnectReason, Next, NoReply, SseClientHandler, SseClientOptions, SseClientStatus, SseClientStopped, StopNext } from './client-types.js'
