import { InvalidChunkError } from '../errors.js'
import { Event } from './event.js'

/** A chunk: written as it is (string, bytes) or encoded for the stream's format (Event). */
export type Chunk = string | Uint8Array | Event

export type Format = 'sse' | 'ndjson' | 'raw'

/** Turns an Event into the text of one format; `id` is the stream's cursor on streams with topics. */
export type EventEncoder = (event: Event, id: string | undefined) => string

const encoders: Record<Format, EventEncoder> = {
  sse: (event, id) => event.text(id ?? event.id),
  // One JSON value a line: the data, which JSON.stringify keeps on one line.
  ndjson: (event) => event.data === undefined ? '' : (event.json ? event.data : JSON.stringify(event.data)) + '\n',
  raw: (event) => event.data ?? ''
}

export function encoderFor (format: Format): EventEncoder {
  return encoders[format]
}

/**
 * Over WebSocket an Event is one text message, a JSON object `{ data, event?, id? }`: `data` as it
 * was given (JSON data stays JSON, a string stays a string), `id` the cursor on a stream with topics.
 * A topic event's data arrives as text (brokers carry text), so it is a string there.
 */
export function websocketEncoder (event: Event, id: string | undefined): string {
  // A comment or a bare `retry:` means nothing over WebSocket: nothing is sent.
  if (event.data === undefined) return ''
  let json = '{"data":' + (event.json ? event.data : JSON.stringify(event.data))
  if (event.event !== undefined) json += ',"event":' + JSON.stringify(event.event)
  id ??= event.id
  if (id !== undefined) json += ',"id":' + JSON.stringify(id)
  return json + '}'
}

/** Throws SSE_ERR_INVALID_CHUNK unless `value` is a chunk or an array of chunks. */
export function checkChunks (value: unknown): void {
  for (const chunk of Array.isArray(value) ? value : [value]) {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array) && !(chunk instanceof Event)) throw describeInvalidChunk(chunk)
  }
}

/** Says why a value is not a Chunk, naming the usual mistake: the DOM's global Event. */
export function describeInvalidChunk (value: unknown): InstanceType<typeof InvalidChunkError> {
  if (typeof globalThis.Event === 'function' && value instanceof globalThis.Event) {
    return new InvalidChunkError('a DOM Event (the global one): import { Event } from \'fastify-sse-actors\'')
  }
  const what = value === null ? 'null' : typeof value === 'object' ? `an object (${(value as object).constructor?.name ?? 'no prototype'})` : `a ${typeof value}`
  return new InvalidChunkError(what)
}
