import { fromCallback, type EventObject } from 'xstate'
import type { Dispatcher } from 'undici'
import type { ParsedEvent } from './parser.js'
import type { ResumableStream, StreamRequest, StreamResponse } from './resumable-stream.js'
import type { DisconnectReason } from './client-types.js'

// The SseClient machine's child for one connection: what it reports to the machine.

export type ConnectionEvent =
  | { type: 'connected', response: StreamResponse }
  | { type: 'no-content' }
  | { type: 'failed', error: Error }
  | { type: 'event', event: ParsedEvent }
  | { type: 'disconnected', reason: DisconnectReason }

export interface ConnectionInput {
  stream: ResumableStream
  request: StreamRequest
  dispatcher: Dispatcher | undefined
  signal: AbortSignal
}

// One connection, from the request to the end of its events. Leaving the state that invoked it (or
// the client stopping) aborts it; nothing is reported after that.
export const connection = fromCallback<EventObject, ConnectionInput>(({ input, sendBack }) => {
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
