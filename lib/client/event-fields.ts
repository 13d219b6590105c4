// How the lines of an event stream make events, as the WHATWG HTML rules say ("Interpreting an event
// stream", "Dispatch the event"): the field of each line, the event being built, its dispatch. The
// parser (parser.ts) cuts the stream into lines and hands each one here.

import { ClientEventTooLargeError } from './errors.js'

/** One dispatched event. */
export interface ParsedEvent {
  /** The `event:` field, `message` when there was none (or it was empty). */
  type: string
  /** The `data:` lines joined with LF. */
  data: string
  /** The last `id:` seen on the stream when the event was dispatched (it persists across events). */
  lastEventId: string
}

export interface ParserCallbacks {
  onEvent (event: ParsedEvent): void
  /** A `retry:` field made of ASCII digits only: the reconnection time in ms. */
  onRetry? (ms: number): void
  /** A line starting with `:`: the text after the colon, without one leading space (as for a field). */
  onComment? (text: string): void
}

const SPACE = 32
const COLON = 58

/** EventFields.nul before the text's first id line. */
export const NOT_SEARCHED = -2

export abstract class EventFields {
  /** The event source's last event id: the `id:` buffer as of the last blank line (event or not). */
  lastEventId: string
  protected readonly maxEventSize: number
  private readonly onEvent: (event: ParsedEvent) => void
  private readonly onRetry: ((ms: number) => void) | undefined
  private readonly onComment: ((text: string) => void) | undefined
  private data = ''
  private hasData = false // a `data:` line was seen, even an empty one
  private type = ''
  private idBuffer: string
  // The position of the next NUL in the text being read, at or after the id values still to come:
  // -1 none, NOT_SEARCHED when the parser gives a new text. Searched at the text's first id line
  // and again only past an id, not once per id line.
  protected nul = NOT_SEARCHED

  constructor (callbacks: ParserCallbacks, lastEventId: string, maxEventSize: number) {
    this.onEvent = callbacks.onEvent
    this.onRetry = callbacks.onRetry
    this.onComment = callbacks.onComment
    this.maxEventSize = maxEventSize
    this.lastEventId = this.idBuffer = lastEventId
  }

  abstract end (): void

  // The stream is broken: what it buffered is dropped, so that the error costs no memory.
  protected tooLarge (): never {
    this.end()
    throw new ClientEventTooLargeError(this.maxEventSize)
  }

  /** Drops the event being built (an unterminated one at the end of a stream). */
  protected forgetEvent (): void {
    this.data = ''
    this.hasData = false
    this.type = ''
    this.idBuffer = this.lastEventId
  }

  // One line, text[start, end). The character at `end` is a line ending, or there is none: never a
  // space nor a colon, so the checks after a field name need no bounds check.
  protected processLine (text: string, start: number, end: number): void {
    if (start === end) {
      this.dispatch()
      return
    }
    // `data:`, `event:` and `id:` take most lines: recognized in place, by their first characters.
    const c = text.charCodeAt(start)
    if (c === 100 && isData(text, start)) this.appendData(text.slice(valueStart(text, start + 4), end))
    else if (c === 101 && isEvent(text, start)) this.type = text.slice(valueStart(text, start + 5), end)
    else if (c === 105 && isId(text, start)) this.idLine(text, valueStart(text, start + 2), end)
    else this.processOtherLine(text, start, end)
  }

  // Any other line: a comment, `retry`, a field without a colon (the value is empty), or one to ignore.
  private processOtherLine (text: string, start: number, end: number): void {
    if (text.charCodeAt(start) === COLON) {
      if (this.onComment !== undefined) this.onComment(text.slice(valueStart(text, start), end))
      return
    }
    let nameEnd = start + 1 // the first colon, or the end of a line without one
    while (nameEnd < end && text.charCodeAt(nameEnd) !== COLON) nameEnd++
    const value = nameEnd === end ? '' : text.slice(valueStart(text, nameEnd), end)
    switch (text.slice(start, nameEnd)) {
      case 'data': this.appendData(value); break
      case 'event': this.type = value; break
      case 'id': this.setId(value); break
      case 'retry': this.retry(value); break
    }
  }

  private appendData (value: string): void {
    if (this.hasData) {
      this.data += '\n' + value
      // The first value needs no check: it is one line, and a line is within the limit.
      if (this.data.length > this.maxEventSize) this.tooLarge()
    } else {
      this.data = value
      this.hasData = true
    }
  }

  // An `id:` line's value, text[start, end): ignored when it holds a NUL.
  private idLine (text: string, start: number, end: number): void {
    if (this.nul !== -1 && this.nul < start) this.nul = text.indexOf('\0', start) // NOT_SEARCHED < 0
    if (this.nul === -1 || this.nul >= end) this.idBuffer = text.slice(start, end)
  }

  // The value of an id line of another form (`id` without a colon).
  private setId (value: string): void {
    if (value.indexOf('\0') === -1) this.idBuffer = value
  }

  private retry (value: string): void {
    if (this.onRetry === undefined || value.length === 0) return
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c < 48 || c > 57) return
    }
    this.onRetry(Number(value))
  }

  // A blank line.
  protected dispatch (): void {
    this.lastEventId = this.idBuffer
    if (this.hasData) {
      const event: ParsedEvent = { type: this.type === '' ? 'message' : this.type, data: this.data, lastEventId: this.lastEventId }
      this.data = ''
      this.hasData = false
      this.type = ''
      this.onEvent(event)
    } else {
      this.type = ''
    }
  }
}

function isData (text: string, at: number): boolean {
  return text.charCodeAt(at + 1) === 97 && text.charCodeAt(at + 2) === 116 && text.charCodeAt(at + 3) === 97 && text.charCodeAt(at + 4) === COLON
}

function isEvent (text: string, at: number): boolean {
  return text.charCodeAt(at + 1) === 118 && text.charCodeAt(at + 2) === 101 && text.charCodeAt(at + 3) === 110 && text.charCodeAt(at + 4) === 116 && text.charCodeAt(at + 5) === COLON
}

function isId (text: string, at: number): boolean {
  return text.charCodeAt(at + 1) === 100 && text.charCodeAt(at + 2) === COLON
}

// Where a value starts after the colon at `colon`: one space there is not part of it.
function valueStart (text: string, colon: number): number {
  return text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1
}
