import type { FastifyRequest } from 'fastify'
import { InvalidHandlerError } from '../errors.js'
import type { AnyRequest, ChunkedHandler, SubscribeOptions } from '../types.js'
import { subscribeFromStart } from './subscribe-options.js'
import type { Published } from './published.js'

/**
 * A handler that subscribes its stream to the topics `select` names for the request, and relays
 * what is published there. `select` runs before the stream opens: it may be async, and what it
 * throws (a 403, say) is answered through Fastify, so a stream only replays topics it was allowed.
 */
export function topics<Request extends AnyRequest = FastifyRequest> (
  select: (request: Request) => string[] | Promise<string[]>,
  options?: SubscribeOptions
): ChunkedHandler<unknown, Published, Request> {
  if (typeof select !== 'function') throw new InvalidHandlerError('topics() takes a function of the request')
  subscribeFromStart(options) // a bad option fails where the route is declared
  return {
    async init (token) {
      const names = await select(token.request)
      if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
        throw new InvalidHandlerError('the topics() function must return an array of topic names')
      }
      await Promise.all(names.map((name) => token.subscribe(name, options)))
    }
  }
}
