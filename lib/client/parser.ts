// An event stream parser that follows the WHATWG HTML rules ("Interpreting an event stream"): this
// file cuts the stream into lines, its base class (event-fields.ts) makes events of them.
//
// Bytes are not decoded chunk by chunk: the tail of a chunk after its last line ending waits as bytes
// and is decoded together with the rest of its line. A line ending is an ASCII byte, never part of a
// multi-byte sequence, so every decoded piece is whole code points: a code point split across chunks
// survives, one-shot decoders can be used (for ASCII, about ten times faster than the streaming
// TextDecoder, measured), and a stream fed a few bytes at a time costs one decode per line instead of
// one per chunk.

import { Buffer } from 'node:buffer'
import { refuseUnknownKeys } from '../check-keys.js'
import { ClientInvalidOptionError } from './errors.js'
import { EventFields, NOT_SEARCHED, type ParserCallbacks } from './event-fields.js'
import { ByteQueue, CR, decode, LF, lastLineEnding } from './line-bytes.js'
import { optionNames } from './option-names.js'

export type { ParsedEvent, ParserCallbacks } from './event-fields.js'

export interface ParserOptions extends ParserCallbacks {
  /** The last event id before the stream starts (a resumed stream): reported until an `id:` field. */
  lastEventId?: string
  /**
   * The most a line, or the data of one event, may take: in bytes while a line waits for its end, in
   * UTF-16 code units once decoded (never more than its UTF-8 bytes). Past it, `feed()` throws a
   * ClientEventTooLargeError. Default 16 MiB; `Infinity` for no limit.
   */
  maxEventSize?: number
}

/** 16 MiB: see docs/CLIENT.md for why. */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

/** The `maxEventSize` option checked, or the default: a positive integer, or Infinity. */
export function maxEventSizeOption (value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_EVENT_SIZE
  if (!(Number.isSafeInteger(value) && value > 0) && value !== Infinity) {
    throw new ClientInvalidOptionError('maxEventSize', `must be a positive integer or Infinity, got ${String(value)}`)
  }
  return value
}

export interface Parser {
  /**
   * Parse the next piece of the stream: text, or bytes decoded as UTF-8. Feed a stream one kind or
   * the other: bytes waiting for the end of their line are decoded as they are when text comes.
   * Throws a ClientEventTooLargeError when a line or an event grows past `maxEventSize`, once the
   * events before it are dispatched; the parser is then as after `end()`.
   */
  feed (chunk: string | Uint8Array): void
  /**
   * The stream ended: an unterminated line or event is dropped, as the standard says. The parser is
   * then ready for the next stream of the same source (a reconnect): it keeps `lastEventId`, as an
   * EventSource does.
   */
  end (): void
  /** Forget everything, the last event id included, as if the parser was just created without one. */
  reset (): void
  /** The event source's last event id: the `id:` buffer as of the last blank line (event or not). */
  readonly lastEventId: string
}

const BOM = 0xfeff

const PARSER_OPTIONS = optionNames<ParserOptions>({
  onEvent: true, onRetry: true, onComment: true, lastEventId: true, maxEventSize: true
})

export function createParser (options: ParserOptions): Parser {
  refuseUnknownKeys(options, PARSER_OPTIONS, 'ParserOptions')
  return new EventStreamParser(options)
}

// A class rather than closures: its methods are shared code, so V8 keeps them optimized across the
// many parsers of a process (closures per parser made it deoptimize on "wrong call target", measured).
class EventStreamParser extends EventFields implements Parser {
  private readonly pendingBytes: ByteQueue // the bytes of a line waiting for its end
  private pendingText = '' // a line fed as text whose ending has not come yet
  private atStart = true // no character seen yet: a BOM here is stripped
  private afterCr = false // the last line ended with CR: an LF that comes next belongs to it

  constructor (options: ParserOptions) {
    const maxEventSize = maxEventSizeOption(options.maxEventSize)
    super(options, options.lastEventId ?? '', maxEventSize)
    this.pendingBytes = new ByteQueue(maxEventSize)
  }

  // Sizes are checked only where a buffer grows: when a line waits for its end (bytes or text) and
  // when a `data:` line is added to the event. A chunk longer than the limit, whose lines are not
  // buffered, is fed in pieces of the limit, so that a line longer than it is caught however the
  // stream was cut.
  feed (chunk: string | Uint8Array): void {
    if (typeof chunk === 'string') {
      if (this.pendingBytes.length !== 0) chunk = this.pendingBytes.take() + chunk
      if (chunk.length > this.maxEventSize) this.feedPieces(chunk)
      else this.feedText(chunk)
      return
    }
    // A Buffer view (what Node's sockets give anyway) has native searches and a one-shot decode.
    const bytes = chunk instanceof Buffer ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const length = bytes.length
    if (length > this.maxEventSize) return this.feedPieces(bytes)
    const last = lastLineEnding(bytes)
    if (last === -1) {
      if (this.pendingBytes.length + length > this.maxEventSize) this.tooLarge()
      this.pendingBytes.push(bytes, 0, length)
      return
    }
    let text: string
    if (this.pendingBytes.length === 0) {
      text = decode(bytes, 0, last + 1)
    } else {
      // The line waiting ends at the first line ending: where that is matters only when the last
      // one is past the limit.
      if (this.pendingBytes.length + last > this.maxEventSize) this.checkLineEnds(bytes)
      this.pendingBytes.push(bytes, 0, last + 1)
      text = this.pendingBytes.take()
    }
    if (last + 1 !== length) this.pendingBytes.push(bytes, last + 1, length)
    this.feedText(text)
  }

  // Each piece is within the limit, and so is the tail of it that waits for its line ending.
  private feedPieces (chunk: string | Buffer): void {
    const size = this.maxEventSize
    for (let at = 0; at < chunk.length; at += size) {
      this.feed(typeof chunk === 'string' ? chunk.slice(at, at + size) : chunk.subarray(at, at + size))
    }
  }

  end (): void {
    this.pendingBytes.clear()
    this.pendingText = ''
    this.atStart = true
    this.afterCr = false
    this.forgetEvent()
  }

  reset (): void {
    this.lastEventId = ''
    this.end()
  }

  // The line waiting in `pendingBytes` must end within the limit in `bytes`.
  private checkLineEnds (bytes: Buffer): void {
    const within = bytes.subarray(0, this.maxEventSize - this.pendingBytes.length + 1)
    if (within.indexOf(LF) === -1 && within.indexOf(CR) === -1) this.tooLarge()
  }

  private feedText (text: string): void {
    const length = text.length
    if (length === 0) return
    let at = 0
    if (this.atStart) {
      this.atStart = false
      if (text.charCodeAt(0) === BOM) at = 1
    }
    if (this.afterCr) {
      this.afterCr = false
      if (text.charCodeAt(at) === LF) at += 1
    }
    // The next CR and LF at or after `at`, each searched again only once passed: linear even when
    // the stream uses one kind of line ending and the other is far away or absent.
    let cr = text.indexOf('\r', at)
    let lf = text.indexOf('\n', at)
    if (this.pendingText !== '') {
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
      if (this.pendingText.length + (end === -1 ? length : end) - at > this.maxEventSize) this.tooLarge()
      if (end === -1) {
        this.pendingText += at === 0 ? text : text.slice(at)
        return
      }
      const line = this.pendingText + text.slice(at, end)
      this.pendingText = ''
      this.nul = NOT_SEARCHED
      this.processLine(line, 0, line.length)
      at = end + 1
      if (end === cr) at = this.skipLf(text, at)
      // The LF-only loop below starts from `lf`, which must not be the line ending just used.
      else lf = text.indexOf('\n', at)
    }
    this.nul = NOT_SEARCHED
    if (cr === -1) {
      // The common case, LF only, in a tighter loop; a blank line is seen without a search.
      while (lf !== -1) {
        this.processLine(text, at, lf)
        at = lf + 1
        if (at < length && text.charCodeAt(at) === LF) {
          this.dispatch()
          at++
        }
        lf = text.indexOf('\n', at)
      }
    } else {
      while (true) {
        if (cr !== -1 && cr < at) cr = text.indexOf('\r', at)
        if (lf !== -1 && lf < at) lf = text.indexOf('\n', at)
        const end = cr === -1 ? lf : lf !== -1 && lf < cr ? lf : cr
        if (end === -1) break
        this.processLine(text, at, end)
        at = end + 1
        if (end === cr) at = this.skipLf(text, at)
      }
    }
    if (at < length) this.pendingText = text.slice(at)
  }

  // After a CR: step over the LF of a CRLF, or remember to when the text ends right after the CR.
  private skipLf (text: string, at: number): number {
    if (at === text.length) {
      this.afterCr = true
      return at
    }
    return text.charCodeAt(at) === LF ? at + 1 : at
  }
}
