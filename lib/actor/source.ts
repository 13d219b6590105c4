import { InvalidHandlerError } from '../errors.js'
import { stop } from '../results.js'
import { PULL } from './notices.js'
import type { Chunk, ChunkedHandler, HandleResult, SourceHandler, Token } from '../types.js'

/**
 * Drives a source handler (a function of the token returning an AsyncIterable of chunks: an async
 * generator, a Node `Readable`, a web `ReadableStream`) as an actor: each `PULL` message takes one
 * value and queues the next pull. The actor handles a message only while the socket is below
 * `highWaterMark`, so a client that does not read pauses the source. When the stream ends the
 * token's signal aborts first (the actor does it), then the iterator is returned (a generator's
 * `finally` runs, a stream is destroyed).
 */
export class SourceDriver implements ChunkedHandler {
  #iterator: AsyncIterator<unknown, unknown> | undefined

  constructor (readonly source: SourceHandler) {}

  init (token: Token): void {
    const iterable = this.source(token as Token<any, never>) as AsyncIterable<unknown> | null | undefined
    if (typeof iterable?.[Symbol.asyncIterator] !== 'function') {
      throw new InvalidHandlerError('a function handler must return an AsyncIterable of chunks (an async generator, a Readable, a ReadableStream)')
    }
    this.#iterator = iterable[Symbol.asyncIterator]()
    token.send(PULL)
  }

  async handle (msg: unknown, token: Token): Promise<HandleResult> {
    if (msg !== PULL) return undefined
    const next = await this.#iterator!.next()
    if (next.done === true) return stop(next.value as Chunk | Chunk[] | undefined)
    token.send(PULL)
    return next.value as HandleResult
  }

  terminate (): void {
    this.#iterator?.return?.(undefined)?.catch(() => {})
  }
}
