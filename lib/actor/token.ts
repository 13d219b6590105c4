import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Chunk } from '../protocol/encoders.js'
import type { SubscribeOptions, Token } from '../types.js'

/** What the token asks of its stream: the actor's side, reachable only through the token's private field. */
export interface TokenOwner {
  readonly id: string
  readonly log: FastifyBaseLogger
  readonly signal: AbortSignal
  send (msg: unknown): void
  startTimer (ms: number, msg: unknown, repeat: boolean): () => void
  subscribe (topic: string, options?: SubscribeOptions): Promise<void>
  unsubscribe (topic: string): Promise<void>
  close (final?: Chunk | Chunk[]): void
}

/**
 * The handler's view of its stream: exactly the members of `Token`, nothing of the actor's machinery
 * (a handler cannot write a fake `reset` or end the stream by a path that skips the close rules).
 */
export class StreamToken implements Token {
  readonly #owner: TokenOwner
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly lastEventId: string | undefined
  state: any

  constructor (owner: TokenOwner, request: FastifyRequest, reply: FastifyReply, lastEventId: string | undefined, state: unknown) {
    this.#owner = owner
    this.request = request
    this.reply = reply
    this.lastEventId = lastEventId
    this.state = state
  }

  get id (): string { return this.#owner.id }
  get log (): FastifyBaseLogger { return this.#owner.log }
  get signal (): AbortSignal { return this.#owner.signal }

  send (msg: unknown): void { this.#owner.send(msg) }
  after (ms: number, msg: unknown): () => void { return this.#owner.startTimer(ms, msg, false) }
  every (ms: number, msg: unknown): () => void { return this.#owner.startTimer(ms, msg, true) }
  subscribe (topic: string, options?: SubscribeOptions): Promise<void> { return this.#owner.subscribe(topic, options) }
  unsubscribe (topic: string): Promise<void> { return this.#owner.unsubscribe(topic) }
  close (final?: Chunk | Chunk[]): void { this.#owner.close(final) }
}
