import type { BrokerEvent, EventPayload } from '../broker/types.js'

// A payload is stored and sent as `<byte length of the event name>:<event name><data>`, the length
// left empty when the event has no name: nothing is escaped and the data is never parsed. A Pub/Sub
// message is `e<epoch>:<offset>:<payload>` for an event, `c<payload>` or `c` for a close.

const COLON = 0x3a
const EVENT = 0x65 // 'e'

export function encodePayload (payload: EventPayload): string {
  const { event, data } = payload
  return event === undefined ? `:${data}` : `${Buffer.byteLength(event)}:${event}${data}`
}

/** The payload that starts at `start`; undefined when nothing is there (a close without a final payload). */
export function decodePayload (bytes: Buffer, start = 0): EventPayload | undefined {
  if (start >= bytes.length) return undefined
  const colon = bytes.indexOf(COLON, start)
  if (colon === start) return { event: undefined, data: bytes.toString('utf8', colon + 1) }
  const eventEnd = colon + 1 + Number(bytes.toString('latin1', start, colon))
  return { event: bytes.toString('utf8', colon + 1, eventEnd), data: bytes.toString('utf8', eventEnd) }
}

export function toEvent (topic: string, epoch: string, offset: number, payload: EventPayload): BrokerEvent {
  return { topic, epoch, offset, event: payload.event, data: payload.data }
}

/** A close as it arrives over Pub/Sub. */
export class CloseMessage {
  constructor (readonly final: EventPayload | undefined) {}
}

export function decodeMessage (topic: string, message: Buffer): BrokerEvent | CloseMessage {
  if (message[0] !== EVENT) return new CloseMessage(decodePayload(message, 1))
  const epochEnd = message.indexOf(COLON, 1)
  const offsetEnd = message.indexOf(COLON, epochEnd + 1)
  const epoch = message.toString('latin1', 1, epochEnd)
  const offset = Number(message.toString('latin1', epochEnd + 1, offsetEnd))
  return toEvent(topic, epoch, offset, decodePayload(message, offsetEnd + 1)!)
}
