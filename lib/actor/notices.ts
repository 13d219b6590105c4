import type { TopicPosition } from '../broker/types.js'
import type { Chunk } from '../protocol/encoders.js'
import type { Event } from '../protocol/event.js'
import { isPublished } from '../topics/published.js'

// Messages the plugin itself puts in a stream's mailbox, in order with the rest. A handler never
// sees them. None is ever dropped to make room: each carries a promise about a topic.

/** A topic cannot be followed exactly from here: written as `event: reset`; the cursor may jump. */
export class TopicReset {
  constructor (readonly topic: string, readonly position: TopicPosition | undefined) {}
}

/** The topic closed: after what was queued before it, `final` is written and the stream ends. */
export class TopicClosed {
  constructor (readonly final: Event | undefined) {}
}

/** A page of replay went to the socket: read the next one. */
export class ReplayMore {
  constructor (readonly next: () => void) {}
}

/** Chunks from `app.sse.send`: written as they are, in mailbox order. */
export class Sent {
  constructor (readonly chunks: Chunk | Chunk[]) {}
}

/** `app.sse.close`: the stream ends here, after what was queued before; never dropped. */
export class CloseRequested {
  constructor (readonly final: Chunk | Chunk[] | undefined) {}
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
