import type { TopicPosition } from '../broker/types.js'
import type { Chunk } from '../protocol/encoders.js'
import type { Event } from '../protocol/event.js'
import { isPublished } from '../topics/published.js'

// Messages the plugin itself puts in a stream's mailbox, in order with the rest. A handler never
// sees them. None is ever dropped to make room: each carries a promise about a topic.

/** One of the plugin's own messages: a single class test tells them from the handler's. */
export abstract class Notice {}

/** A topic cannot be followed exactly from here: written as `event: reset`; the cursor may jump. */
export class TopicReset extends Notice {
  constructor (readonly topic: string, readonly position: TopicPosition | undefined) { super() }
}

/** The topic closed: after what was queued before it, `final` is written and the stream ends. */
export class TopicClosed extends Notice {
  constructor (readonly final: Event | undefined) { super() }
}

/** A page of replay went to the socket: read the next one. */
export class ReplayMore extends Notice {
  constructor (readonly next: () => void) { super() }
}

/** Chunks from `app.sse.send`: written as they are, in mailbox order. */
export class Sent extends Notice {
  constructor (readonly chunks: Chunk | Chunk[]) { super() }
}

/** `app.sse.close`: the stream ends here, after what was queued before; never dropped. */
export class CloseRequested extends Notice {
  constructor (readonly final: Chunk | Chunk[] | undefined) { super() }
}

/** A message from `app.sse.notify`, for `handleNotify`. */
export class Notified {
  constructor (readonly msg: unknown) {}
}

/** What a source or forward() handler sends itself to read its next value: one at a time. */
export const PULL = Symbol('fastify-sse-actors.pull')

/**
 * Never dropped by `drop-oldest`: topic events and the plugin's notices about topics (a drop would be
 * a silent gap), and a source's pull (a drop would leave it silent for good).
 */
export function isKept (msg: unknown): boolean {
  return isPublished(msg) || msg === PULL || msg instanceof TopicReset || msg instanceof TopicClosed || msg instanceof ReplayMore || msg instanceof CloseRequested
}
