import { assign, enqueueActions, fromCallback, setup } from 'xstate'
import type { Dispatcher } from 'undici'
import { refuseUnknownKeys } from '../check-keys.js'
import { MAX_TIMER, reconnectDelay } from './backoff.js'
import { ClientEventTooLargeError, ClientStatusError, isPermanent } from './errors.js'
import { optionNames } from './option-names.js'
import type { ParsedEvent } from './parser.js'
import { ResumableStream, type StreamRequest, type StreamResponse } from './resumable-stream.js'
import type { ConnectNext, ConnectRequest, DisconnectReason, Next, SseClientHandler, SseClientOptions } from './sse-client.js'

// The SseClient's lifecycle. The handler's callbacks run in actions; what they return is turned into
// a `next.connect` or `next.stop` event that the machine raises to itself, so every path to a
// connection or to the end goes through the same two transitions. The machine is typed for any state
// and message; SseClient gives it its types back.

type Handler = SseClientHandler<unknown, unknown>

interface ClientInput {
  handler: Handler
  state: unknown
  options: SseClientOptions
  /** Aborted when the client stops, whatever way. */
  signal: AbortSignal
}

interface ClientContext {
  handler: Handler
  state: unknown
  stream: ResumableStream
  dispatcher: Dispatcher | undefined
  signal: AbortSignal
  /** The last request connected to, without its delay: what the default callbacks connect to again. */
  request: StreamRequest | undefined
  /** How long `waiting` waits. */
  delay: number
  /** Consecutive attempts that did not open. */
  failures: number
  reason: unknown
}

type ConnectionEvent =
  | { type: 'connected', response: StreamResponse }
  | { type: 'no-content' }
  | { type: 'failed', error: Error }
  | { type: 'event', event: ParsedEvent }
  | { type: 'disconnected', reason: DisconnectReason }

type ClientEvent =
  | ConnectionEvent
  | { type: 'info', msg: unknown }
  | { type: 'stop', reason: unknown }
  | { type: 'next.connect' }
  | { type: 'next.stop' }

interface ConnectionInput {
  stream: ResumableStream
  request: StreamRequest
  dispatcher: Dispatcher | undefined
  signal: AbortSignal
}

// One connection, from the request to the end of its events. Leaving the state that invoked it (or
// the client stopping) aborts it; nothing is reported after that.
const connection = fromCallback<ClientEvent, ConnectionInput>(({ input, sendBack }) => {
  const controller = new AbortController()
  const abort = (): void => controller.abort()
  input.signal.addEventListener('abort', abort)
  const report = (event: ConnectionEvent): void => {
    if (!controller.signal.aborted) sendBack(event)
  }
  let opened = false
  const run = async (): Promise<void> => {
    const { response, events } = await input.stream.open(input.request, controller.signal, input.dispatcher)
    if (events === null) return report({ type: 'no-content' })
    opened = true
    report({ type: 'connected', response })
    for await (const event of events) {
      if (controller.signal.aborted) return
      report({ type: 'event', event })
    }
    report({ type: 'disconnected', reason: 'end' })
  }
  run().catch((error: Error) => report(opened ? { type: 'disconnected', reason: error } : { type: 'failed', error }))
  return () => {
    input.signal.removeEventListener('abort', abort)
    controller.abort()
  }
})

// What a callback returns is checked like an option object: `{ conect: ... }` or `{ lastEventID }`
// would otherwise be ignored without a word.
const NEXT_KEYS = optionNames<ConnectNext<unknown>>({ connect: true, state: true, stop: true })
const REQUEST_KEYS = optionNames<ConnectRequest>({ url: true, method: true, headers: true, body: true, delay: true })

// Calls a handler callback and acts on what it returns. `defaultDelay` is the wait before a connect
// that gives no delay of its own.
function decide<E extends ClientEvent> (
  call: (handler: Handler, state: unknown, event: E, context: ClientContext) => Next<unknown>,
  defaultDelay: (context: ClientContext, event: E) => number = () => 0
) {
  return enqueueActions<ClientContext, E, undefined, ClientEvent, never, never, never, never, never>(({ context, event, enqueue }) => {
    const next = call(context.handler, context.state, event, context)
    if (!next) return
    refuseUnknownKeys(next, NEXT_KEYS, 'Next')
    const state = next.state === undefined ? context.state : next.state
    if (next.connect !== undefined) {
      refuseUnknownKeys(next.connect, REQUEST_KEYS, 'ConnectRequest')
      const { delay, ...request } = next.connect
      enqueue.assign({ state, request, delay: Math.min(delay ?? defaultDelay(context, event), MAX_TIMER) })
      enqueue.raise({ type: 'next.connect' })
    } else if ('stop' in next) {
      enqueue.assign({ state, reason: next.stop })
      enqueue.raise({ type: 'next.stop' })
    } else {
      enqueue.assign({ state })
    }
  })
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
  delays: { reconnect: ({ context }) => context.delay }
}).createMachine({
  id: 'sse-client',
  context: ({ input }) => ({
    handler: input.handler,
    state: input.state,
    stream: new ResumableStream(input.options),
    dispatcher: input.options.dispatcher,
    signal: input.signal,
    request: undefined,
    delay: 0,
    failures: 0,
    reason: undefined
  }),
  entry: decide((handler, state) => handler.init(state)),
  initial: 'idle',
  on: {
    info: { actions: decide<On<'info'>>((handler, state, event) => handler.handleInfo?.(event.msg, state)) },
    stop: { target: '.stopped', actions: assign({ reason: ({ event }) => event.reason }) },
    'next.connect': [
      { guard: ({ context }) => context.delay > 0, target: '.waiting' },
      { target: '.connection' }
    ],
    'next.stop': '.stopped'
  },
  states: {
    idle: {},
    waiting: {
      after: { reconnect: 'connection' }
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
              target: '#sse-client.idle',
              actions: [
                assign({ failures: ({ context }) => context.failures + 1 }),
                decide<On<'failed'>>((handler, state, { error }, context) => {
                  if (handler.handleConnectFailure !== undefined) return handler.handleConnectFailure(error, state)
                  if (isPermanent(error)) throw error
                  return again(context)
                }, (context, { error }) => (error instanceof ClientStatusError ? error.retryAfter : undefined) ?? reconnectDelay(context.stream.retry, context.failures))
              ]
            },
            'no-content': {
              target: '#sse-client.stopped',
              actions: assign({ reason: 'no-content' })
            }
          }
        },
        open: {
          on: {
            event: {
              actions: assign({
                state: ({ context, event }) => context.handler.handleEvent(event.event, context.state)
              })
            },
            disconnected: {
              target: '#sse-client.idle',
              actions: decide<On<'disconnected'>>(
                (handler, state, { reason }, context) => {
                  if (handler.handleDisconnect !== undefined) return handler.handleDisconnect(reason, state)
                  // The server is broken: connecting again would fetch the same event.
                  if (reason instanceof ClientEventTooLargeError) throw reason
                  return again(context)
                },
                (context) => reconnectDelay(context.stream.retry, 0)
              )
            }
          }
        }
      }
    },
    stopped: { type: 'final' }
  }
})
