import { stop } from '../results.js'
import type { Chunk, ChunkedHandler, GeneratorHandler, HandleResult, Token } from '../types.js'

const PULL = Symbol('fastify-sse-actors.pull')

/**
 * Drives an async generator handler as an actor: each `PULL` message takes one value and queues the
 * next pull, so the mailbox's backpressure applies to the generator too. When the stream ends the
 * token's signal aborts first (the actor does it), then the generator is returned, so its `finally` runs.
 */
export class GeneratorDriver implements ChunkedHandler {
  #generator: AsyncGenerator<unknown, unknown> | undefined

  constructor (readonly generatorFunction: GeneratorHandler) {}

  init (token: Token): void {
    this.#generator = this.generatorFunction(token as Token<any, never>) as AsyncGenerator<unknown, unknown>
    token.send(PULL)
  }

  async handle (msg: unknown, token: Token): Promise<HandleResult> {
    if (msg !== PULL) return undefined
    const next = await this.#generator!.next()
    if (next.done === true) return stop(next.value as Chunk | Chunk[] | undefined)
    token.send(PULL)
    return next.value as HandleResult
  }

  terminate (): void {
    this.#generator?.return(undefined).catch(() => {})
  }
}
