import { isUtf8 } from 'node:buffer'
import { NO_EPOCH } from '../broker/epoch.js'
import type { BrokerEvent, EventPayload } from '../broker/types.js'

// A payload is stored and sent as `<byte length of the event name>:<event name><data>`, the length
// left empty when the event has no name: nothing is escaped and the data is never parsed. A Pub/Sub
// message is `e<epoch>:<offset>:<payload>` for an event, `c<payload>` or `c` for a close.
// Decoding checks the framing: the channel and the keys are open to anyone on the same Redis, so
// bytes that this broker could not have written throw here, for the caller to drop and report. What
// the strings say (an event name's characters) is the plugin's to check, as for the memory broker.

const COLON = 0x3a
const EVENT = 0x65 // 'e'
const CLOSE = 0x63 // 'c'
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/
const OFFSET = /^[1-9][0-9]{0,15}$/
const LENGTH = /^(0|[1-9][0-9]{0,15})$/
const ENTRY_ID = /^([1-9][0-9]{0,15})-0$/

export function encodePayload (payload: EventPayload): string {
  const { event, data } = payload
  return event === undefined ? `:${data}` : `${Buffer.byteLength(event)}:${event}${data}`
}

/** The payload that starts at `start`. */
export function decodePayload (bytes: Buffer, start = 0): EventPayload {
  const colon = bytes.indexOf(COLON, start)
  if (colon === -1) malformed('a payload without its ":"')
  if (colon === start) return { event: undefined, data: utf8(bytes, colon + 1, bytes.length) }
  const eventEnd = colon + 1 + integer(bytes.toString('latin1', start, colon), LENGTH, 'event name length')
  if (eventEnd > bytes.length) malformed('an event name longer than the payload')
  return { event: utf8(bytes, colon + 1, eventEnd), data: utf8(bytes, eventEnd, bytes.length) }
}

/** A close's final payload, from `start`; undefined when nothing is there. */
export function decodeFinal (bytes: Buffer, start = 0): EventPayload | undefined {
  return start >= bytes.length ? undefined : decodePayload(bytes, start)
}

function toEvent (topic: string, epoch: string, offset: number, payload: EventPayload): BrokerEvent {
  return { topic, epoch, offset, event: payload.event, data: payload.data }
}

/** A stream entry of the topic's history: id `<offset>-0`, one field `p`, the payload. */
export function decodeEntry (topic: string, epoch: string, id: Buffer, fields: Buffer[]): BrokerEvent {
  const offset = ENTRY_ID.exec(id.toString('latin1'))?.[1] ?? malformed('an entry id that is not <offset>-0')
  if (fields.length !== 2 || fields[0].toString('latin1') !== 'p') malformed('an entry whose only field is not "p"')
  return toEvent(topic, epoch, integer(offset, OFFSET, 'offset'), decodePayload(fields[1]))
}

/** A close as it arrives over Pub/Sub. */
export class CloseMessage {
  constructor (readonly final: EventPayload | undefined) {}
}

export function decodeMessage (topic: string, message: Buffer): BrokerEvent | CloseMessage {
  if (message[0] === CLOSE) return new CloseMessage(decodeFinal(message, 1))
  if (message[0] !== EVENT) malformed('neither an event nor a close')
  const epochEnd = message.indexOf(COLON, 1)
  const offsetEnd = epochEnd === -1 ? -1 : message.indexOf(COLON, epochEnd + 1)
  if (offsetEnd === -1) malformed('an event without its epoch and offset')
  const epoch = message.toString('latin1', 1, epochEnd)
  // No event is ever published in NO_EPOCH: a topic gets a real epoch with its first event.
  if (!EPOCH.test(epoch) || epoch === NO_EPOCH) malformed('an event whose epoch is not one')
  const offset = integer(message.toString('latin1', epochEnd + 1, offsetEnd), OFFSET, 'offset')
  return toEvent(topic, epoch, offset, decodePayload(message, offsetEnd + 1))
}

function integer (text: string, syntax: RegExp, what: string): number {
  const value = Number(text)
  if (!syntax.test(text) || !Number.isSafeInteger(value)) malformed(`an ${what} that is not one`)
  return value
}

/** Text that is valid UTF-8: invalid bytes were not written from a JavaScript string. */
function utf8 (bytes: Buffer, start: number, end: number): string {
  if (!isUtf8(bytes.subarray(start, end))) malformed('bytes that are not UTF-8')
  return bytes.toString('utf8', start, end)
}

function malformed (reason: string): never {
  throw new Error(`malformed: ${reason}`)
}
