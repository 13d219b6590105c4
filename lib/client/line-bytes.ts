// The bytes of the lines an event stream parser reads: where the last line ending of a chunk is, the
// bytes of a line that waits for its end, and their decoding as UTF-8.

// Imported: the global `Buffer` is a getter, a call each time it is named.
import { Buffer, isAscii, transcode } from 'node:buffer'

export const LF = 10
export const CR = 13

// A buffer grown past this for huge lines is not kept for the rest of the stream.
const KEPT_BYTES = 1 << 20

// The index of the last CR or LF byte, or -1. A chunk usually ends with a line ending or just after
// one: look there first, then let the native search scan what is left.
export function lastLineEnding (bytes: Buffer): number {
  const near = Math.max(bytes.length - 64, 0)
  for (let i = bytes.length - 1; i >= near; i--) {
    const c = bytes[i]
    if (c === LF || c === CR) return i
  }
  if (near === 0) return -1
  return Math.max(bytes.lastIndexOf(LF, near - 1), bytes.lastIndexOf(CR, near - 1))
}

// ignoreBOM: the parser strips the one BOM at the start of the stream itself.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

// The fastest exact decoder for bytes[start, end), measured on Node 20: for small pieces, the
// one-shot TextDecoder (simdutf) on a whole buffer, V8's own decoder through toString on a part of
// one (a view for TextDecoder would cost as much as decoding a line); for larger ones, Latin-1 when
// they are ASCII (a copy, 3 to 10 times faster than decoding UTF-8), else ICU's transcode to UTF-16,
// up to twice as fast. All follow the Encoding standard on valid and invalid bytes alike
// (test/client/parser-chunks.test.ts checks them against TextDecoder), but transcode throws on
// invalid bytes (or on a Node built without ICU): the TextDecoder then replaces them. None strips a
// BOM.
export function decode (bytes: Buffer, start: number, end: number): string {
  const whole = start === 0 && end === bytes.length
  if (end - start < 1024) return whole ? decoder.decode(bytes) : bytes.toString('utf8', start, end)
  const piece = whole ? bytes : bytes.subarray(start, end)
  if (isAscii(piece)) return piece.toString('latin1')
  try {
    return transcode(piece, 'utf8', 'utf16le').toString('utf16le')
  } catch {
    return decoder.decode(piece)
  }
}

// The bytes of a line that has not ended yet, copied (the caller may reuse its buffers) into one
// buffer that grows by doubling, so a long line fed in small pieces is copied a bounded number of times.
export class ByteQueue {
  length = 0
  private buffer = Buffer.allocUnsafe(256)
  // Doubling stops at the parser's limit: a line that stays within it never takes twice its memory.
  private readonly maxCapacity: number

  constructor (maxCapacity: number) {
    this.maxCapacity = maxCapacity
  }

  push (bytes: Uint8Array, start: number, end: number): void {
    const needed = this.length + end - start
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.buffer.length * 2, this.maxCapacity)))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    if (end - start > 64) {
      this.buffer.set(bytes.subarray(start, end), this.length)
    } else {
      // A few bytes are copied faster one by one than through a view.
      const buffer = this.buffer
      for (let i = start, at = this.length; i < end; i++, at++) buffer[at] = bytes[i]
    }
    this.length = needed
  }

  take (): string {
    const text = decode(this.buffer, 0, this.length)
    // Keep a large buffer while lines that need it keep coming: a stream of large events would
    // allocate it again for each (a fresh large buffer costs its page faults, about as much as the
    // decoding). A line much smaller than it lets it go.
    if (this.buffer.length > KEPT_BYTES && this.length < this.buffer.length / 4) this.buffer = Buffer.allocUnsafe(256)
    this.length = 0
    return text
  }

  clear (): void {
    this.length = 0
    if (this.buffer.length > KEPT_BYTES) this.buffer = Buffer.allocUnsafe(256)
  }
}
