import { InvalidFieldError } from '../errors.js'

export interface EventInit {
  /** A string is split on CR, LF and CRLF into `data:` lines; anything else is JSON-serialized. */
  data?: unknown
  /** The event's type (`event:` field); no control character. */
  event?: string
  /** The event's id (`id:` field); no control character. */
  id?: string
  /** Reconnection delay in ms for the client, a non-negative integer. */
  retry?: number
  /** Comment text, written as `:` lines (split on line breaks like `data`). */
  comment?: string
}

const INIT_KEYS: ReadonlySet<string> = new Set(['data', 'event', 'id', 'retry', 'comment'] satisfies Array<keyof EventInit>)

// C0 and DEL. CR and LF would forge a field; the others cannot come back intact in a Last-Event-ID
// header (HTTP refuses them in a header value; a tab at either end is trimmed as whitespace), so an id
// holding one would break every reconnect. One rule for both fields.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const CONTROL = /[\u0000-\u001f\u007f]/

/** True when `value` may be an event's name or id: no control character. */
export function isFieldValue (value: string): boolean {
  return value.search(CONTROL) === -1
}

/**
 * Checks a single-line field (`event` or `id`): a string with no control character. Pure, and the
 * one rule for every path that names an event (Event, `app.sse.publish`'s `{ event }`).
 */
export function checkFieldValue (field: 'event' | 'id', value: unknown): string {
  if (typeof value !== 'string') throw new InvalidFieldError(field, 'must be a string')
  const at = value.search(CONTROL)
  if (at === -1) return value
  const code = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')
  throw new InvalidFieldError(field, `may not contain a control character (U+${code} at ${at})`)
}

const LINE_BREAK = /\r\n|\r|\n/

function lines (prefix: string, text: string): string {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) return prefix + text + '\n'
  let out = ''
  for (const line of text.split(LINE_BREAK)) out += prefix + line + '\n'
  return out
}

function checkComment (value: unknown): string {
  if (typeof value !== 'string') throw new InvalidFieldError('comment', 'must be a string')
  return value
}

function serialize (data: unknown): string {
  if (typeof data === 'string') return data
  let json: unknown
  try {
    json = JSON.stringify(data)
  } catch (error) {
    // A BigInt, a cycle, a throwing toJSON: a coded error, not JSON's bare TypeError.
    throw new InvalidFieldError('data', `cannot be serialized to JSON: ${(error as Error).message}`)
  }
  if (typeof json !== 'string') throw new InvalidFieldError('data', `${typeof data} cannot be serialized to JSON`)
  return json
}

function checkInit (init: unknown): asserts init is EventInit {
  if (init === null || typeof init !== 'object') throw new InvalidFieldError('init', 'an Event is built from an object')
  // A misspelt field (`evnet`) would silently send an event without it. `for in` allocates nothing:
  // this runs for every event a handler returns.
  for (const key in init) {
    if (!INIT_KEYS.has(key) && Object.hasOwn(init, key)) throw new InvalidFieldError(key, 'unknown field (known: data, event, id, retry, comment)')
  }
}

/**
 * One server-sent event. Validated when built, so no input can forge a second event; its text is
 * computed once and shared by every stream that writes it.
 */
export class Event {
  readonly data: string | undefined
  readonly event: string | undefined
  readonly id: string | undefined
  readonly retry: number | undefined
  readonly comment: string | undefined
  /** True when `data` was serialized to JSON (it was not a string). */
  readonly json: boolean
  /** The event's lines without `id:` and without the blank line that ends it. */
  readonly fields: string
  #text: string | undefined

  constructor (init: EventInit) {
    checkInit(init)
    const { data, event, id, retry, comment } = init
    if (data === undefined && comment === undefined) throw new InvalidFieldError('data', 'an event needs data (use Event.comment() for a comment)')
    let fields = ''
    // A comment may hold any character: each of its lines starts with ':', so none can forge a field,
    // and a client never sends a comment back.
    if (comment !== undefined) fields += lines(':', checkComment(comment))
    if (event !== undefined) fields += 'event: ' + checkFieldValue('event', event) + '\n'
    if (retry !== undefined) {
      if (!Number.isSafeInteger(retry) || retry < 0) throw new InvalidFieldError('retry', 'must be a non-negative integer')
      fields += 'retry: ' + retry + '\n'
    }
    this.json = data !== undefined && typeof data !== 'string'
    this.data = data === undefined ? undefined : serialize(data)
    if (this.data !== undefined) fields += lines('data: ', this.data)
    this.event = event
    this.id = id === undefined ? undefined : checkFieldValue('id', id)
    this.retry = retry
    this.comment = comment
    this.fields = fields
  }

  /** A comment line, ignored by clients; keeps proxies from timing out an idle stream. */
  static comment (text = ''): Event {
    return new Event({ comment: text })
  }

  /** The event as written on a stream, with `id` when given (a stream with topics passes its cursor). */
  text (id: string | undefined = this.id): string {
    if (id === this.id) return (this.#text ??= withId(this.fields, this.id))
    return withId(this.fields, id)
  }

  toString (): string {
    return this.text()
  }
}

function withId (fields: string, id: string | undefined): string {
  return id === undefined ? fields + '\n' : fields + 'id: ' + id + '\n\n'
}
