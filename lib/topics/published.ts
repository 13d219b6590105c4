import type { FastifyBaseLogger } from 'fastify'
import type { BrokerEvent, EventPayload, TopicPosition } from '../broker/types.js'
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

/**
 * The Published for a broker event; undefined, logged, when it is not a valid event (written by
 * something else than this plugin, or by an older version): a broker's bad data is dropped, never thrown.
 */
export function publishedOf (source: BrokerEvent, log: Pick<FastifyBaseLogger, 'warn'>): Published | undefined {
  try {
    return new Published(source)
  } catch (error) {
    log.warn({ err: error, topic: source.topic, offset: source.offset }, 'a malformed event from the broker was dropped')
    return undefined
  }
}

/** A topic's final event from the broker; undefined, logged, when it is not valid. */
export function eventOf (payload: EventPayload, log: Pick<FastifyBaseLogger, 'warn'>): Event | undefined {
  try {
    return new Event({ event: payload.event, data: payload.data })
  } catch (error) {
    log.warn({ err: error }, 'a malformed final event from the broker was dropped')
    return undefined
  }
}
