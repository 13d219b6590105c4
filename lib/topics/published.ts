import type { BrokerEvent, TopicPosition } from '../broker/types.js'
import { encodeEntry } from '../protocol/cursor.js'
import { Event } from '../protocol/event.js'
import { frameChunk } from '../protocol/framing.js'

/**
 * A topic event as it reaches the mailboxes of its subscribers: built once per publish on each
 * instance and shared by every stream, as are its bytes for streams whose cursor holds only its topic.
 */
export class Published {
  readonly topic: string
  readonly event: Event
  readonly position: TopicPosition
  #payload: Buffer | undefined
  #framed: Buffer | undefined

  constructor (source: BrokerEvent) {
    this.topic = source.topic
    this.position = { epoch: source.epoch, offset: source.offset }
    this.event = new Event({ event: source.event, data: source.data })
  }

  /** The SSE bytes with the id of a stream subscribed to this topic alone. */
  get payload (): Buffer {
    return (this.#payload ??= Buffer.from(this.event.text(encodeEntry(this.topic, this.position))))
  }

  /** `payload` framed as one HTTP/1.1 chunk. */
  get framed (): Buffer {
    return (this.#framed ??= frameChunk(this.payload))
  }
}

export function isPublished (msg: unknown): msg is Published {
  return msg instanceof Published
}
