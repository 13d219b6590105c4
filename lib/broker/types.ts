// The contract between the plugin and a broker. A broker may live in this process (memory) or on
// another machine (Redis): everything here is asynchronous and carries only strings and numbers.

/** What a publish carries: the SSE event name and the data, already serialized to a string. */
export interface EventPayload {
  event?: string | undefined
  data: string
}

/**
 * A topic's incarnation and an offset in it. Offsets are 1, 2, 3... per epoch; 0 is "before the first".
 * `{ epoch: NO_EPOCH, offset: 0 }` (`START`, lib/broker/epoch.ts) is before the first event of
 * whatever epoch the topic has or will have.
 */
export interface TopicPosition {
  epoch: string
  offset: number
}

/** A published event as the broker stores and delivers it. */
export interface BrokerEvent extends EventPayload, TopicPosition {
  topic: string
}

export interface ReadResult {
  /** The topic's current epoch: `NO_EPOCH` (lib/broker/epoch.ts) until its first publish. */
  epoch: string
  /** The offset of the newest event of that epoch (0 if none). */
  head: number
  /**
   * With `after` in the current epoch (or the start position) and still covered by the history: the
   * events after it, in order, at most `limit` of them. More remain when the last one is before `head`.
   * Offsets are contiguous, save where a stored entry did not decode (dropped and reported).
   */
  events: BrokerEvent[]
  /** False when `after` cannot be resumed exactly: another epoch, a trimmed history, an offset past the head. */
  complete: boolean
  /** The topic was closed (its tombstone is there). */
  closed: boolean
  /** When closed: the final payload `closeTopic` was given, if any. */
  final?: EventPayload
}

/** Receives a topic's live events on this instance. */
export interface TopicListener {
  /** Called in publish order, each offset once; the broker fills a gap it sees from its history. */
  event(event: BrokerEvent): void
  /** The topic was closed by `closeTopic`, on this instance or another. */
  closed(final: EventPayload | undefined): void
}

export interface Broker {
  /** Appends to the topic's history and delivers to its listeners on every instance; resolves to its position. */
  publish(topic: string, payload: EventPayload): Promise<BrokerEvent>
  /**
   * Starts live delivery of `topic` to `listener` on this instance. Resolves once delivery is in place,
   * so a `read` made afterwards misses nothing. The returned function stops it.
   */
  listen(topic: string, listener: TopicListener): Promise<() => void>
  /**
   * The history after `after` (omitted: none, only the epoch and head), at most `limit` events (a
   * positive integer; omitted: no cap), so that a reader far behind can page: read again after the
   * last event returned. Creates nothing: a topic never published reads as `NO_EPOCH`, head 0.
   */
  read(topic: string, after?: TopicPosition, limit?: number): Promise<ReadResult>
  /** Leaves a tombstone and tells every listener on every instance. Later publishes reject with SSE_ERR_TOPIC_CLOSED. */
  closeTopic(topic: string, final?: EventPayload): Promise<void>
  /** Removes the tombstone on every instance: the topic may be used again, in a new epoch (its history is gone). */
  reopenTopic(topic: string): Promise<void>
  /** Releases what the broker holds (never a connection the user passed in). */
  close(): Promise<void>
}
