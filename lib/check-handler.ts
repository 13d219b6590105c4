import { InvalidHandlerError } from './errors.js'
import type { StreamHandler } from './types.js'

/** The callbacks of the handler contract (DESIGN "The handler"): any other key is a mistake. */
const CALLBACKS: ReadonlySet<string> = new Set(['init', 'handle', 'terminate', 'handleError', 'handleNotify'])
const KNOWN = [...CALLBACKS].join(', ')

function describe (value: unknown): string {
  return value === null ? 'null' : typeof value
}

function refuseUnknown (key: string, where: string): never {
  throw new InvalidHandlerError(`unknown ${where} "${key}" (a handler's callbacks are ${KNOWN})`)
}

/**
 * A class instance: its methods, from its class up to (not including) Object.prototype, must be
 * callbacks; its own fields may hold data (`this.db`), but an own function must be a callback too.
 */
function checkInstance (handler: object): void {
  for (const key of Object.keys(handler)) {
    if (typeof (handler as Record<string, unknown>)[key] === 'function' && !CALLBACKS.has(key)) refuseUnknown(key, 'method')
  }
  for (let proto = Object.getPrototypeOf(handler); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || CALLBACKS.has(key)) continue
      if (typeof Object.getOwnPropertyDescriptor(proto, key)?.value === 'function') refuseUnknown(key, 'method')
    }
  }
}

/**
 * Checks a handler where its route is declared, so a typo (`hanlde`) or an empty object is an
 * `SSE_ERR_INVALID_HANDLER` instead of a stream that opens and stays silent. A function is accepted
 * (an async generator function, or any function returning an AsyncIterable: it is only called later).
 */
export function checkHandler (handler: unknown): asserts handler is StreamHandler {
  if (typeof handler === 'function') {
    // `class Feed {}` passed instead of `new Feed()`: calling it later would throw on every request.
    if (/^class[\s{]/.test(Function.prototype.toString.call(handler))) throw new InvalidHandlerError(`${handler.name || 'a class'} is a class: pass an instance (new ${handler.name || 'Handler'}())`)
    return
  }
  if (handler === null || typeof handler !== 'object') {
    throw new InvalidHandlerError(`expected an object with init or handle, or a function returning an async iterable, got ${describe(handler)}`)
  }
  const proto = Object.getPrototypeOf(handler)
  if (proto === Object.prototype || proto === null) {
    for (const key of Object.keys(handler)) if (!CALLBACKS.has(key)) refuseUnknown(key, 'key')
  } else {
    checkInstance(handler)
  }
  const callbacks = handler as Record<string, unknown>
  for (const name of CALLBACKS) {
    if (callbacks[name] !== undefined && typeof callbacks[name] !== 'function') throw new InvalidHandlerError(`${name} must be a function, got ${describe(callbacks[name])}`)
  }
  if (typeof callbacks.init !== 'function' && typeof callbacks.handle !== 'function') {
    throw new InvalidHandlerError('a handler needs at least one of init, handle')
  }
}
