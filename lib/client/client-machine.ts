import { assign, enqueueActions, raise, setup } from 'xstate'
import type { Dispatcher } from 'undici'
import { refuseUnknownKeys } from '../check-keys.js'
import { MAX_TIMER } from './backoff.js'
import { connection, type ConnectionEvent } from './connection-actor.js'
import { ClientRestartLimitError } from './errors.js'
import { optionNames } from './option-names.js'
import { admitRestart, restartDelay, restartsOn, type Supervision } from './restart.js'
import { isFinal, waitBefore } from './reconnect-rules.js'
import { ResumableStream, type StreamRequest } from './resumable-stream.js'
import type { ConnectNext, ConnectRequest, Next, SseClientHandler, SseClientOptions } from './client-types.js'

// The SseClient's lifecycle. The handler's callbacks run in actions; what they return is turned into
// a `next.connect` or `ended` event that the machine raises to itself, so every path to a connection
// or to the end of the handler's run goes through the same two transitions. A callback that throws
// ends the run too (`ended`, crashed), instead of erroring the actor: the supervision then decides,
// in the machine, whether the run starts again from `init` (`restarting`, then `running`) or the
// client stops. The machine is typed for any state and message; SseClient gives it its types back.

type Handler = SseClientHandler<unknown, unknown>

interface ClientInput {
  handler: Handler
  state: unknown
  options: SseClientOptions
  supervision: Supervision
  /** Aborted when the client stops, whatever way. */
  signal: AbortSignal
}

interface ClientContext {
  handler: Handler
  /** What each run starts from: `init`'s argument, and the options of a fresh ResumableStream. */
  initial: { state: unknown, options: SseClientOptions }
  supervision: Supervision
  state: unknown
  stream: ResumableStream
  dispatcher: Dispatcher | undefined
  signal: AbortSignal
  /** The last request connected to, without its delay: what the default callbacks connect to again. */
  request: StreamRequest | undefined
  /** How long `waiting` or `restarting` waits. */
  delay: number
  /** Consecutive attempts that did not open. */
  failures: number
  /** Why the client stopped; the error `closed` rejects with when `failed`. */
  reason: unknown
  failed: boolean
  /** When the restarts of the current window happened (ms, monotonic). */
  restartTimes: number[]
  /** Restarts since the client started. */
  restarts: number
}

type ClientEvent =
  | ConnectionEvent
  | { type: 'info', msg: unknown }
  | { type: 'stop', reason: unknown }
  | { type: 'next.connect' }
  | Ended

/** The handler's run ended: a stop it returned (or a 204), or a callback that threw. */
interface Ended { type: 'ended', crashed: boolean, reason: unknown, at: number }

const ended = (crashed: boolean, reason: unknown): Ended => ({ type: 'ended', crashed, reason, at: performance.now() })

// What a callback returns is checked like an option object: `{ conect: ... }` or `{ lastEventID }`
// would otherwise be ignored without a word.
const NEXT_KEYS = optionNames<ConnectNext<unknown>>({ connect: true, state: true, stop: true })
const REQUEST_KEYS = optionNames<ConnectRequest>({ url: true, method: true, headers: true, body: true, delay: true })

// Calls a handler callback and acts on what it returns; a callback that throws (or returns a key it
// should not) ends the run, crashed. `defaultDelay` is the wait before a connect that gives no delay
// of its own.
function decide<E extends ClientEvent> (
  call: (handler: Handler, state: unknown, event: E, context: ClientContext) => Next<unknown>,
  defaultDelay: (context: ClientContext, event: E) => number = () => 0
) {
  return enqueueActions<ClientContext, E, undefined, ClientEvent, never, never, never, never, never>(({ context, event, enqueue }) => {
    let next: Next<unknown>
    try {
      next = call(context.handler, context.state, event, context)
      if (!next) return
      refuseUnknownKeys(next, NEXT_KEYS, 'Next')
      if (next.connect !== undefined) refuseUnknownKeys(next.connect, REQUEST_KEYS, 'ConnectRequest')
    } catch (error) {
      enqueue.raise(ended(true, error))
      return
    }
    const state = next.state === undefined ? context.state : next.state
    if (next.connect !== undefined) {
      const { delay, ...request } = next.connect
      enqueue.assign({ state, request, delay: Math.min(delay ?? defaultDelay(context, event), MAX_TIMER) })
      enqueue.raise({ type: 'next.connect' })
    } else if ('stop' in next) {
      enqueue.assign({ state })
      enqueue.raise(ended(false, next.stop))
    } else {
      enqueue.assign({ state })
    }
  })
}

// The restarts of the window with this one, or undefined when the run ends for good. Computed from
// the event's own time, so the guard and the action agree.
function admitted ({ supervision, restartTimes }: ClientContext, event: Ended): number[] | undefined {
  return restartsOn(supervision, event.crashed) ? admitRestart(restartTimes, event.at, supervision) : undefined
}

type On<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>

// The default callbacks connect again to the last request.
const again = (context: ClientContext): Next<unknown> => ({ connect: context.request as StreamRequest })

export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    input: {} as ClientInput
  },
  actors: { connection },
  delays: { wait: ({ context }) => context.delay }
}).createMachine({
  id: 'sse-client',
  context: ({ input }) => ({
    handler: input.handler,
    initial: { state: input.state, options: input.options },
    supervision: input.supervision,
    state: input.state,
    stream: new ResumableStream(input.options),
    dispatcher: input.options.dispatcher,
    signal: input.signal,
    request: undefined,
    delay: 0,
    failures: 0,
    reason: undefined,
    failed: false,
    restartTimes: [],
    restarts: 0
  }),
  initial: 'running',
  on: {
    // `client.stop()` is a shutdown: never restarted, whatever the policy.
    stop: { target: '.stopped', actions: assign({ reason: ({ event }) => event.reason }) },
    ended: [
      {
        guard: ({ context, event }) => admitted(context, event) !== undefined,
        target: '.restarting',
        actions: assign(({ context, event }) => {
          const restartTimes = admitted(context, event) as number[]
          return { restartTimes, restarts: context.restarts + 1, delay: restartDelay(restartTimes.length) }
        })
      },
      {
        target: '.stopped',
        actions: assign(({ context: { supervision }, event }) => {
          if (event.crashed) return { failed: true, reason: event.reason }
          // A permanent client out of restarts: its supervision gave up, which is no normal end.
          if (restartsOn(supervision, false)) return { failed: true, reason: new ClientRestartLimitError(supervision.maxRestarts, supervision.restartWindow, event.reason) }
          return { reason: event.reason }
        })
      }
    ]
  },
  states: {
    // One run of the handler. Each starts afresh, as a restarted Elixir process does: the initial
    // state, and a new ResumableStream (the Last-Event-ID and retry of the options), since the state
    // a handler keeps and the id it has seen go together (seed 003 keeps the id in its state).
    running: {
      entry: [
        assign(({ context: { initial } }) => ({ state: initial.state, stream: new ResumableStream(initial.options), request: undefined, delay: 0, failures: 0 })),
        decide((handler, state) => handler.init(state))
      ],
      initial: 'idle',
      on: {
        info: { actions: decide<On<'info'>>((handler, state, event) => handler.handleInfo?.(event.msg, state)) },
        'next.connect': [
          { guard: ({ context }) => context.delay > 0, target: '.waiting' },
          { target: '.connection' }
        ]
      },
      states: {
        idle: {},
        waiting: {
          after: { wait: 'connection' }
        },
        connection: {
          invoke: {
            src: 'connection',
            input: ({ context }) => ({
              stream: context.stream,
              request: context.request as StreamRequest,
              dispatcher: context.dispatcher,
              signal: context.signal
            })
          },
          initial: 'connecting',
          states: {
            connecting: {
              on: {
                connected: {
                  target: 'open',
                  actions: [
                    assign({ failures: 0 }),
                    decide<On<'connected'>>((handler, state, event) => handler.handleConnect?.(event.response, state))
                  ]
                },
                failed: {
                  target: '#sse-client.running.idle',
                  actions: [
                    assign({ failures: ({ context }) => context.failures + 1 }),
                    decide<On<'failed'>>((handler, state, { error }, context) => {
                      if (handler.handleConnectFailure !== undefined) return handler.handleConnectFailure(error, state)
                      if (isFinal(error, false)) throw error
                      return again(context)
                    }, (context, { error }) => waitBefore(error, context.stream.retry, context.failures))
                  ]
                },
                'no-content': { actions: raise(() => ended(false, 'no-content')) }
              }
            },
            open: {
              on: {
                event: {
                  actions: enqueueActions(({ context, event, enqueue }) => {
                    try {
                      enqueue.assign({ state: context.handler.handleEvent(event.event, context.state) })
                    } catch (error) {
                      enqueue.raise(ended(true, error))
                    }
                  })
                },
                disconnected: {
                  target: '#sse-client.running.idle',
                  actions: decide<On<'disconnected'>>(
                    (handler, state, { reason }, context) => {
                      if (handler.handleDisconnect !== undefined) return handler.handleDisconnect(reason, state)
                      if (isFinal(reason, true)) throw reason
                      return again(context)
                    },
                    (context, { reason }) => waitBefore(reason, context.stream.retry, 0)
                  )
                }
              }
            }
          }
        }
      }
    },
    // Between two runs: the old one's connection is closed, messages sent now are dropped.
    restarting: {
      after: { wait: 'running' }
    },
    stopped: { type: 'final' }
  }
})
