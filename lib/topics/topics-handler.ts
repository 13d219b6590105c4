import type { FastifyRequest } from 'fastify'
import { InvalidHandlerError } from '../errors.js'
import type { AnyRequest, ChunkedHandler, SubscribeOptions, Token } from '../types.js'
import { SUBSCRIBED, subscribeFromStart } from './subscribe-options.js'
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
  // Not async: with a select that returns at once and the memory broker, the stream opens without a turn.
  const subscribeAll = (token: Token, names: unknown): Promise<void> | undefined => {
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
      throw new InvalidHandlerError('the topics() function must return an array of topic names')
    }
    let waiting: Array<Promise<void>> | undefined
    for (const name of names) {
      const subscribing = token.subscribe(name, options)
      if (subscribing !== SUBSCRIBED) (waiting ??= []).push(subscribing)
    }
    return waiting === undefined ? undefined : Promise.all(waiting).then(noop)
  }
  return {
    init (token) {
      const names: unknown = select(token.request)
      if (typeof (names as PromiseLike<unknown> | undefined)?.then !== 'function') return subscribeAll(token, names)
      return Promise.resolve(names).then((resolved) => subscribeAll(token, resolved))
    }
  }
}

function noop (): void {}
