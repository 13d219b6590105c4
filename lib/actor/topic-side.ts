import type { FastifyBaseLogger } from 'fastify'
import type { TopicPosition } from '../broker/types.js'
import type { Event } from '../protocol/event.js'
import type { Published } from '../topics/published.js'
import { StreamTopics, type StreamTopicsOwner } from '../topics/stream-topics.js'
import type { SseStats } from '../types.js'
import type { StreamOptions } from './context.js'
import type { MailboxLoop } from './mailbox-loop.js'
import { ReplayMore, TopicClosed, TopicReset } from './notices.js'
import type { StreamOutput } from './stream-output.js'
import type { TopicHub } from '../topics/hub.js'

/** What a stream's topic side asks of its stream. */
export interface TopicSideHost {
  readonly log: FastifyBaseLogger
  /** The replay could not be read: the stream ends ('error'), the client resumes by its cursor. */
  replayFailed (): void
}

/**
 * A stream's end of its topics, made when it first subscribes: it takes what the topics deliver
 * (events, resets, a close, the next replay page) into the stream's mailbox, in order, and keeps
 * the cursor that rides on what the stream writes.
 */
export class TopicSide implements StreamTopicsOwner {
  readonly topics: StreamTopics
  readonly #host: TopicSideHost
  readonly #loop: MailboxLoop
  readonly #output: StreamOutput
  readonly #stats: SseStats
  /** Relays topic events as they came, in SSE: their shared bytes may be written as they arrive. */
  readonly #relaysShared: boolean

  constructor (host: TopicSideHost, hub: TopicHub, lastEventId: string | undefined, loop: MailboxLoop, output: StreamOutput, options: StreamOptions, stats: SseStats, relays: boolean) {
    this.#host = host
    this.#loop = loop
    this.#output = output
    this.#stats = stats
    this.#relaysShared = relays && options.rules.eventStream
    this.topics = new StreamTopics(hub, this, lastEventId, options.maxTopicsPerStream)
    output.topics = this.topics
  }

  get log (): FastifyBaseLogger {
    return this.#host.log
  }

  enqueuePublished (published: Published, replayed: boolean): void {
    // The fan-out's hot path, decided in a few reads: an idle SSE stream that relays its one topic
    // moves its cursor and writes the event's shared bytes at once. Anything else takes the mailbox.
    if (this.#relaysShared && this.#loop.idle() && this.topics.advanceSole(published)) {
      this.#output.writeShared(published)
      return
    }
    this.#loop.enqueue(published, !replayed)
  }

  topicClosed (final: Event | undefined): void {
    this.#loop.enqueue(new TopicClosed(final), false)
  }

  reset (topic: string, position?: TopicPosition): void {
    this.#stats.resets++
    this.#loop.enqueue(new TopicReset(topic, position), false)
  }

  replayMore (next: () => void): void {
    this.#loop.enqueue(new ReplayMore(next), false)
  }

  replayFailed (error: unknown): void {
    this.log.warn({ err: error }, 'the replay could not be read: the stream ends, the client resumes by its cursor')
    this.#host.replayFailed()
  }

  resumed (): void {
    this.#stats.replays++
  }
}
