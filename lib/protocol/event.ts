import { InvalidFieldError } from '../errors.js'

export interface EventInit {
  /** A string is split on CR, LF and CRLF into `data:` lines; anything else is JSON-serialized. */
  data?: unknown
  event?: string
  id?: string
  /** Reconnection delay in ms for the client, a non-negative integer. */
  retry?: number
  comment?: string
}

const LINE_BREAK = /\r\n|\r|\n/

function lines (prefix: string, text: string): string {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) return prefix + text + '\n'
  let out = ''
  for (const line of text.split(LINE_BREAK)) out += prefix + line + '\n'
  return out
}

function singleLine (field: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidFieldError(field, 'must be a string')
  if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) throw new InvalidFieldError(field, 'may not contain CR or LF')
  if (field === 'id' && value.indexOf('\0') !== -1) throw new InvalidFieldError(field, 'may not contain NUL')
  return value
}

function serialize (data: unknown): string {
  if (typeof data === 'string') return data
  const json = JSON.stringify(data)
  if (typeof json !== 'string') throw new InvalidFieldError('data', `${typeof data} cannot be serialized to JSON`)
  return json
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
    if (init === null || typeof init !== 'object') throw new InvalidFieldError('init', 'an Event is built from an object')
    const { data, event, id, retry, comment } = init
    if (data === undefined && comment === undefined) throw new InvalidFieldError('data', 'an event needs data (use Event.comment() for a comment)')
    let fields = ''
    if (comment !== undefined) fields += lines(':', singleLineFree('comment', comment))
    if (event !== undefined) fields += 'event: ' + singleLine('event', event) + '\n'
    if (retry !== undefined) {
      if (!Number.isSafeInteger(retry) || retry < 0) throw new InvalidFieldError('retry', 'must be a non-negative integer')
      fields += 'retry: ' + retry + '\n'
    }
    this.json = data !== undefined && typeof data !== 'string'
    this.data = data === undefined ? undefined : serialize(data)
    if (this.data !== undefined) fields += lines('data: ', this.data)
    this.event = event
    this.id = id === undefined ? undefined : singleLine('id', id)
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

function singleLineFree (field: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidFieldError(field, 'must be a string')
  return value
}

function withId (fields: string, id: string | undefined): string {
  return id === undefined ? fields + '\n' : fields + 'id: ' + id + '\n\n'
}
