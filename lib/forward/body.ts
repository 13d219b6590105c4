import { InvalidOptionError } from '../errors.js'

/** What forward()'s `body` may be: a string, bytes, or a plain object or array sent as JSON. */
export type BodyValue = string | Uint8Array | object

/** A body ready to send, with the content type it implies (none for bytes). */
export interface PreparedBody {
  payload: string | Uint8Array
  contentType: string | undefined
}

// fetch's type for a string body.
const TEXT = 'text/plain;charset=UTF-8'
const JSON_TYPE = 'application/json'

/**
 * Checks and serializes a body value. A class instance (a Date, a Map, a Readable) is refused rather
 * than turned into JSON that does not say what the caller meant.
 */
export function prepareBody (value: unknown, where: string): PreparedBody | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return { payload: value, contentType: TEXT }
  if (value instanceof Uint8Array) return { payload: value, contentType: undefined }
  if (!isPlain(value)) {
    const what = value === null ? 'null' : typeof value === 'object' ? `an object (${value.constructor?.name ?? 'no prototype'})` : `a ${typeof value}`
    throw new InvalidOptionError(where, `must be a string, a Uint8Array, a plain object or an array, got ${what}`)
  }
  let json: string
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new InvalidOptionError(where, `cannot be serialized to JSON: ${(error as Error).message}`)
  }
  return { payload: json, contentType: JSON_TYPE }
}

/** The body for one request: a prepared value, or what the function gives for this request. */
export async function bodyFor<Request> (body: PreparedBody | ((request: Request) => unknown) | undefined, request: Request): Promise<PreparedBody | undefined> {
  if (typeof body !== 'function') return body
  const value = await body(request)
  return value === null ? undefined : prepareBody(value, 'forward.body()')
}

function isPlain (value: unknown): value is object {
  if (Array.isArray(value)) return true
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
